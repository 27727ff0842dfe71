# install() rules and the exported package config so consumers can find_package(corm).
include(CMakePackageConfigHelpers)

install(TARGETS corm EXPORT cormTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/corm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cormTargets NAMESPACE corm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corm)

configure_package_config_file(cmake/cormConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cormConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corm)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cormConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cormConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cormConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corm)

# corm_warnings(target): the warning set every corm target compiles with.
function(corm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                         -Wold-style-cast -Wcast-align -Woverloaded-virtual
                         -Wimplicit-fallthrough
                         # GCC 12 misreports Asio's coroutine-frame operator delete as mismatched.
                         -Wno-mismatched-new-delete)
  if(CORM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

// A backend left out of the build (CORM_WITH_*=OFF) is refused with a ConfigError that says so
// and names the option; a backend built in accepts its URL. The CORM_WITH_* values come from
// tests/CMakeLists.txt, so each configuration checks what it actually built.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "corm/core/error.hpp"
#include "corm/core/url.hpp"
#include "corm/driver/driver_connection.hpp"
#include "corm/engine/engine.hpp"

using Catch::Matchers::Contains;

namespace {
void check_backend(bool built, std::string_view url, const std::string& option) {
  INFO(url);
  if (built) {
    CHECK_NOTHROW(corm::driver::validate(corm::Url::parse(url), corm::driver::ConnectOptions{}));
  } else {
    CHECK_THROWS_MATCHES(corm::create_engine(url), corm::ConfigError,
                         Catch::Matchers::Predicate<corm::ConfigError>([&](const corm::ConfigError& e) {
                           const std::string what = e.what();
                           return what.find("built without") != std::string::npos &&
                                  what.find("-D" + option + "=ON") != std::string::npos;
                         }));
  }
}
}  // namespace

TEST_CASE("a URL for a backend corm was built without raises ConfigError naming the build option", "[url]") {
  check_backend(CORM_WITH_POSTGRESQL, "postgresql://app@localhost/shop", "CORM_WITH_POSTGRESQL");
  check_backend(CORM_WITH_SQLITE, "sqlite:///tmp/corm-driver-options.db", "CORM_WITH_SQLITE");
  check_backend(CORM_WITH_MYSQL, "mysql://app@localhost/shop", "CORM_WITH_MYSQL");
}

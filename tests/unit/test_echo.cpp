// Echo lines: duration, rows, cache provenance, and parameter values only when asked.
#include <catch2/catch.hpp>

#include "front/echo.hpp"

using namespace corm;

namespace {
std::string echo(bool show, const detail::EchoRecord& r) {
  std::string out;
  detail::echo_statement([&](LogLevel, std::string_view line) { out = std::string(line); }, show, r);
  return out;
}
}  // namespace

TEST_CASE("echo reports cache hits, fresh compilations and raw SQL differently", "[echo]") {
  const std::vector<Value> params{Value(5), Value("Kim")};
  detail::EchoRecord r{"SELECT 1", params, std::chrono::microseconds(1500), 3, true,
                       std::chrono::steady_clock::now() - std::chrono::seconds(2), {}};
  auto hit = echo(false, r);
  CHECK_THAT(hit, Catch::Contains("cached since 2"));
  CHECK_THAT(hit, Catch::Contains("1.500 ms") && Catch::Contains("3 rows"));
  CHECK_THAT(hit, Catch::Contains("2 parameters hidden") && !Catch::Contains("Kim"));
  r.from_cache = false;
  CHECK_THAT(echo(false, r), Catch::Contains("[generated]"));
  r.compiled_at = {};
  CHECK_THAT(echo(false, r), Catch::Contains("[raw sql]"));
  CHECK_THAT(echo(true, r), Catch::Contains("(5, 'Kim')"));
  r.error = "unique constraint violated";
  CHECK_THAT(echo(false, r), Catch::Contains("failed after") && Catch::Contains("unique constraint violated"));
}

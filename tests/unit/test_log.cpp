#include <catch2/catch.hpp>

#include <string>

#include <unistd.h>

#include "corm/core/log.hpp"

namespace {
// Runs `fn` with stderr redirected into a pipe and returns what it wrote.
template <class Fn>
std::string capture_stderr(Fn fn) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fds[1], STDERR_FILENO);
  fn();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  return out;
}
}  // namespace

TEST_CASE("stderr sink writes one prefixed line per call with the level", "[log]") {
  const auto out = capture_stderr([] {
    corm::stderr_sink(corm::LogLevel::warning, "N+1 query detected");
    corm::stderr_sink(corm::LogLevel::info, "SELECT 1");
  });
  CHECK(out == "[corm] WARNING N+1 query detected\n[corm] INFO SELECT 1\n");
}

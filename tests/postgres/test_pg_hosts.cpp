// Host lists on PostgreSQL against the shared primary and its streaming standby: libpq gets
// host=a,b port=p,q, so with target_session_attrs=read-write the standby listed first is skipped
// (both fronts), and when no host qualifies the ConnectError carries libpq's account of each.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/corm.hpp>

#include <string>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

using namespace corm;
namespace asio = boost::asio;
using Catch::Matchers::Contains;

namespace {

std::string host_list(int first, int second, const std::string& attrs) {
  const Url primary = Url::parse(test::pg_url());
  return "postgresql://" + primary.username() + "@127.0.0.1:" + std::to_string(first) + ",127.0.0.1:" +
         std::to_string(second) + "/" + primary.database() + "?target_session_attrs=" + attrs;
}

int primary_port() { return Url::parse(test::pg_url()).port().value(); }
int standby_port() { return Url::parse(test::pg_replica_url()).port().value(); }

}  // namespace

TEST_CASE("postgres host list: read-write skips the standby listed first and reaches the primary, on both fronts",
          "[postgres][hosts]") {
  const std::string rw = host_list(standby_port(), primary_port(), "read-write");
  {
    Engine e = create_engine(rw);
    Connection c = e.connect();
    CHECK(c.exec_driver_sql("SELECT current_setting('port')::int").scalar_one<std::int64_t>() == primary_port());
    CHECK_FALSE(c.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one<bool>());
  }
  std::int64_t async_port = 0;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine e = create_async_engine(ex, rw);
    AsyncConnection c = co_await e.connect();
    async_port = (co_await c.exec_driver_sql("SELECT current_setting('port')::int")).scalar_one<std::int64_t>();
    co_await c.close();
  });
  CHECK(async_port == primary_port());

  Engine any = create_engine(host_list(standby_port(), primary_port(), "any"));
  Connection c = any.connect();
  CHECK(c.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one<bool>());
}

TEST_CASE("postgres host list: no writable host is a ConnectError with libpq's account of each host",
          "[postgres][hosts]") {
  try {
    Engine e = create_engine(host_list(1, standby_port(), "read-write"));
    (void)e.connect();
    FAIL("connected although no host is a writable server");
  } catch (const ConnectError& err) {
    const std::string msg = err.what();
    CHECK_THAT(msg, Contains("127.0.0.1:1,127.0.0.1:" + std::to_string(standby_port())));
    CHECK_THAT(msg, Contains("port 1 failed"));
    CHECK_THAT(msg, Contains("read-only"));
  }
}

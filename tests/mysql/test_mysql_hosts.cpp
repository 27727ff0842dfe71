// Host lists on MySQL / MariaDB against the shared primary and its read-only GTID replica: with
// target_session_attrs=read-write the replica is skipped (both fronts), with `any` the first host
// that answers is used, and when no host qualifies the ConnectError names every host tried and
// why, never the password.
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

// mysql://user@127.0.0.1:<first>,127.0.0.1:<second>/db?target_session_attrs=<attrs>
std::string host_list(int first, int second, const std::string& attrs, const std::string& password = "") {
  const Url primary = Url::parse(test::mysql_url());
  return "mysql://" + primary.username() + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" +
         std::to_string(first) + ",127.0.0.1:" + std::to_string(second) + "/" + primary.database() +
         "?target_session_attrs=" + attrs;
}

int primary_port() { return Url::parse(test::mysql_url()).port().value(); }
int replica_port() { return Url::parse(test::mysql_replica_url()).port().value(); }

}  // namespace

TEST_CASE("mysql host list: read-write skips the read-only replica listed first and reaches the primary, on both "
          "fronts; any takes the first host",
          "[mysql][hosts]") {
  const std::string rw = host_list(replica_port(), primary_port(), "read-write");
  {
    Engine e = create_engine(rw);
    Connection c = e.connect();
    CHECK(c.exec_driver_sql("SELECT @@port").scalar_one<std::int64_t>() == primary_port());
    CHECK(c.exec_driver_sql("SELECT @@global.read_only").scalar_one<std::int64_t>() == 0);
  }
  std::int64_t async_port = 0;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine e = create_async_engine(ex, rw);
    AsyncConnection c = co_await e.connect();
    async_port = (co_await c.exec_driver_sql("SELECT @@port")).scalar_one<std::int64_t>();
    co_await c.close();
  });
  CHECK(async_port == primary_port());

  Engine any = create_engine(host_list(replica_port(), primary_port(), "any"));
  Connection c = any.connect();
  CHECK(c.exec_driver_sql("SELECT @@port").scalar_one<std::int64_t>() == replica_port());
}

TEST_CASE("mysql host list: no writable host is a ConnectError naming every host tried and why, never the password",
          "[mysql][hosts]") {
  // Port 1 on 127.0.0.1: nothing listens, the connection is refused at once.
  try {
    Engine e = create_engine(host_list(1, replica_port(), "read-write"));
    (void)e.connect();
    FAIL("connected although no host is a writable server");
  } catch (const ConnectError& err) {
    const std::string msg = err.what();
    CHECK_THAT(msg, Contains("could not connect to a writable MySQL server of mysql://"));
    CHECK_THAT(msg, Contains("tried 2 hosts in order: 127.0.0.1:1: could not connect"));
    CHECK_THAT(msg, Contains("127.0.0.1:" + std::to_string(replica_port()) +
                             ": read-only (@@read_only or @@innodb_read_only is ON), not a primary"));
  }
  try {
    Engine e = create_engine(host_list(1, replica_port(), "read-write", "s3cret"));
    (void)e.connect();
    FAIL("connected with a wrong password");
  } catch (const ConnectError& err) {
    CHECK_THAT(std::string(err.what()), Contains(":***@") && !Contains("s3cret"));
    CHECK_THAT(err.server_message(), !Contains("s3cret"));
  }
}

TEST_CASE("mysql host list: target_session_attrs other than read-write or any is refused before connecting",
          "[mysql][hosts]") {
  CHECK_THROWS_WITH(create_engine(host_list(primary_port(), replica_port(), "primary")),
                    Contains("target_session_attrs='primary' in MySQL URL is not supported; use read-write"));
}

// Events count what was sent; echo logs it with timing, hiding parameter values unless asked.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <mutex>

#include "support/test_db.hpp"

using namespace corm;

TEST_CASE("before/after_execute see every statement with its parameters and row count", "[events]") {
  auto engine = create_engine(test::database_url());
  std::vector<std::string> before;
  std::vector<std::int64_t> rows;
  engine.events().before_execute([&](const StatementEvent& e) { before.emplace_back(e.sql); });
  auto id = engine.events().after_execute([&](const StatementEvent& e) {
    rows.push_back(e.rows);
    CHECK(e.duration.count() >= 0);
  });
  auto conn = engine.connect();
  conn.execute(text("SELECT :a UNION ALL SELECT :b"), {{"a", 1}, {"b", 2}});
  conn.commit();
  // BEGIN, the SELECT, COMMIT
  REQUIRE(before.size() == 3);
  CHECK(before[0] == "BEGIN");
  CHECK_THAT(before[1], Catch::StartsWith("SELECT"));
  CHECK(before[2] == "COMMIT");
  CHECK(rows[1] == 2);
  engine.events().remove(id);
  conn.execute(text("SELECT 1"), {});
  CHECK(rows.size() == 3);
  CHECK(before.size() == 5);
}

TEST_CASE("connect, checkout and checkin events fire once each per use", "[events]") {
  auto engine = create_engine(test::database_url());
  int connects = 0, checkouts = 0, checkins = 0;
  engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
  engine.events().on_checkout([&](const ConnectionEvent&) { ++checkouts; });
  engine.events().on_checkin([&](const ConnectionEvent&) { ++checkins; });
  for (int i = 0; i < 3; ++i) engine.connect().execute(text("SELECT 1"), {});
  CHECK(connects == 1);
  CHECK(checkouts == 3);
  CHECK(checkins == 3);
}

TEST_CASE("echo logs statements with timing and hides parameter values unless asked", "[echo]") {
  std::vector<std::string> lines;
  std::mutex mu;
  EngineOptions opts;
  opts.echo = true;
  opts.log = [&](LogLevel, std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  {
    auto engine = create_engine(test::database_url(), opts);
    engine.connect().execute(text("SELECT :secret"), {{"secret", "hunter2"}});
  }
  REQUIRE(lines.size() >= 2);
  bool saw_select = false;
  for (const auto& l : lines) {
    CHECK_THAT(l, !Catch::Contains("hunter2"));
    if (l.find("SELECT") != std::string::npos) {
      saw_select = true;
      CHECK_THAT(l, Catch::Contains("ms") && Catch::Contains("1 parameters hidden"));
    }
  }
  CHECK(saw_select);

  lines.clear();
  opts.echo_parameters = true;
  auto engine = create_engine(test::database_url(), opts);
  engine.connect().execute(text("SELECT :secret"), {{"secret", "hunter2"}});
  bool shown = false;
  for (const auto& l : lines) shown = shown || l.find("'hunter2'") != std::string::npos;
  CHECK(shown);
}

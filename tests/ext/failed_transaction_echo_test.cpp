// A failed transactional() ends with a ROLLBACK that echo and listeners see, on both fronts,
// and leaves no row and no warning behind (rolling back is what it was asked to do).
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "corm/ext.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
namespace asio = boost::asio;

namespace {
struct Seen {
  std::shared_ptr<std::vector<std::string>> sql = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<std::vector<std::string>> warnings = std::make_shared<std::vector<std::string>>();
  template <class E>
  void listen(E& engine) {
    engine.events().after_execute([s = sql](const StatementEvent& e) { s->emplace_back(e.sql); });
  }
  LogSink sink() const {
    return [w = warnings](LogLevel level, std::string_view line) {
      if (level == LogLevel::warning) w->emplace_back(line);
    };
  }
};

std::shared_ptr<Note> note(std::string text) {
  auto n = std::make_shared<Note>();
  n->text = std::move(text);
  return n;
}
}  // namespace

TEST_CASE("sync transactional(): a failure after a flush ends in a ROLLBACK that listeners see", "[ext][transactional]") {
  ExtDb db;
  Seen seen;
  EngineOptions opts;
  opts.log = seen.sink();
  Engine engine = create_engine(db.url, opts);
  seen.listen(engine);
  CHECK_THROWS_WITH(ext::transactional(engine,
                                       [](Session& s) {
                                         s.add(note("half done"));
                                         s.flush();
                                         throw std::runtime_error("the work failed");
                                       }),
                    "the work failed");
  REQUIRE_FALSE(seen.sql->empty());
  CHECK(seen.sql->back() == "ROLLBACK");
  CHECK(seen.warnings->empty());
  CHECK(db.rows("ext_notes") == 0);
}

TEST_CASE("async transactional(): a failure after a flush ends in a ROLLBACK that listeners see",
          "[ext][transactional][async]") {
  ExtDb db;
  Seen seen;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions opts;
    opts.log = seen.sink();
    AsyncEngine engine = create_async_engine(ex, db.url, opts);
    seen.listen(engine);
    bool threw = false;
    try {
      co_await ext::transactional(engine, [](AsyncSession& s) -> asio::awaitable<void> {
        s.add(note("half done"));
        co_await s.flush();
        throw std::runtime_error("the work failed");
      });
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "the work failed";
    }
    CHECK(threw);
  });
  REQUIRE_FALSE(seen.sql->empty());
  CHECK(seen.sql->back() == "ROLLBACK");
  CHECK(seen.warnings->empty());
  CHECK(db.rows("ext_notes") == 0);
}

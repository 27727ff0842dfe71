// Units of work on MySQL / MariaDB against a real server: read-only transactions, per-transaction
// isolation levels, shared locking reads, eager loads whose IN lists are chunked, and a pool
// that outlives connections the server dropped.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/corm.hpp>
#include <corm/ext/transactional.hpp>
#include <corm/ext/async_transactional.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/async_test.hpp"
#include "mysql/mysql_db.hpp"
#include "support/test_db.hpp"

namespace h32 {
struct Pet;
struct Owner {
  std::int64_t id{};
  std::string name;
  corm::Many<Pet> pets;
};
struct Pet {
  std::int64_t id{};
  std::int64_t owner_id{};
  std::string name;
};
struct Account {
  std::int64_t id{};
  std::int64_t balance{};
};
}  // namespace h32

template <>
struct corm::Model<h32::Owner> {
  static constexpr auto table = corm::table("owners", corm::column("id", &h32::Owner::id, corm::primary_key),
                                            corm::column("name", &h32::Owner::name, corm::max_length(40)),
                                            corm::has_many("pets", &h32::Owner::pets, &h32::Pet::owner_id));
};
template <>
struct corm::Model<h32::Pet> {
  static constexpr auto table =
      corm::table("pets", corm::column("id", &h32::Pet::id, corm::primary_key, corm::identity),
                  corm::column("owner_id", &h32::Pet::owner_id, corm::references(&h32::Owner::id), corm::indexed),
                  corm::column("name", &h32::Pet::name, corm::max_length(40)));
};
template <>
struct corm::Model<h32::Account> {
  static constexpr auto table = corm::table("accounts", corm::column("id", &h32::Account::id, corm::primary_key),
                                            corm::column("balance", &h32::Account::balance));
};

using namespace corm;
using h32::Account;
using h32::Owner;
using h32::Pet;
namespace asio = boost::asio;

namespace {

// Owners, pets and accounts in a database of their own.
MetaData& units_tables() {
  static MetaData m = [] {
    MetaData t;
    t.add<Owner>().add<Pet>().add<Account>();
    return t;
  }();
  return m;
}

struct Db : test::MysqlDb {
  Db() : MysqlDb(units_tables()) {}
};

// The SQL of every statement an engine sends, in order (listeners may run on several threads).
struct Transcript {
  struct Log {
    std::mutex m;
    std::vector<std::string> sql;
  };
  std::shared_ptr<Log> log = std::make_shared<Log>();
  template <class E>
  explicit Transcript(E& engine) {
    engine.events().before_execute([l = log](const StatementEvent& ev) {
      std::lock_guard<std::mutex> g(l->m);
      l->sql.emplace_back(ev.sql);
    });
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> g(log->m);
    return std::exchange(log->sql, {});
  }
  static std::size_t count(const std::vector<std::string>& v, std::string_view prefix) {
    std::size_t n = 0;
    for (const auto& s : v) n += s.rfind(prefix, 0) == 0;
    return n;
  }
};

void seed_accounts(const std::string& url) {
  Engine e = create_engine(url);
  Connection c = e.connect();
  c.exec_driver_sql("INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100)");
  c.commit();
}

}  // namespace

TEST_CASE("a read-only session runs in START TRANSACTION READ ONLY and the server refuses its writes",
          "[mysql][transactions][read_only]") {
  Db db;
  seed_accounts(db.url);
  Engine engine = create_engine(db.url);
  Transcript t(engine);
  SessionOptions o;
  o.read_only = true;
  {
    Session s(engine, o);
    CHECK(s.get<Account>(std::int64_t{1})->balance == 100);
    try {
      s.execute(text("UPDATE accounts SET balance = 0"));
      FAIL("expected the server to refuse a write in a read-only transaction");
    } catch (const DatabaseError& e) {
      CHECK(e.sqlstate() == "25006");
      CHECK_THAT(e.what(), Catch::Contains("READ ONLY transaction") && Catch::Contains("read-write transaction"));
    }
    s.commit();  // a read-only session rolls back
  }
  auto sql = t.take();
  REQUIRE(!sql.empty());
  CHECK(sql.front() == "START TRANSACTION READ ONLY");
  CHECK(Transcript::count(sql, "BEGIN") == 0);
  // Read-only applies to that transaction only: the connection, back in the pool, writes again.
  Connection c = engine.connect();
  c.exec_driver_sql("UPDATE accounts SET balance = 5 WHERE id = 2");
  c.commit();
  CHECK(Transcript::count(t.take(), "START TRANSACTION READ ONLY") == 0);
  CHECK(c.exec_driver_sql("SELECT SUM(balance) FROM accounts").scalar_one<std::int64_t>() == 105);
}

TEST_CASE("transactional(read_only) on MySQL: the server refuses a hand-written write with a clear error",
          "[mysql][transactions][read_only]") {
  Db db;
  seed_accounts(db.url);
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    Transcript t(engine);
    ext::TxOptions ro;
    ro.read_only = true;
    auto work = [](AsyncSession& s) -> asio::awaitable<std::int64_t> {
      auto a = co_await s.get<Account>(std::int64_t{2});
      co_await s.execute(text("UPDATE accounts SET balance = balance + 1"));
      co_return a->balance;
    };
    try {
      (void)co_await ext::transactional(engine, work, ro);
      FAIL("expected DatabaseError");
    } catch (const DatabaseError& e) {
      CHECK(e.sqlstate() == "25006");
      CHECK_THAT(e.what(), Catch::Contains("READ ONLY"));
    }
    auto sql = t.take();
    CHECK(Transcript::count(sql, "START TRANSACTION READ ONLY") == 1);  // not retried
    auto read = [](AsyncSession& s) -> asio::awaitable<std::int64_t> {
      auto a = co_await s.get<Account>(std::int64_t{2});
      co_return a->balance;
    };
    CHECK(co_await ext::transactional(engine, read, ro) == 100);
  });
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  CHECK(c.exec_driver_sql("SELECT SUM(balance) FROM accounts").scalar_one<std::int64_t>() == 200);
}

TEST_CASE("a per-transaction isolation level is sent right before START TRANSACTION and governs it",
          "[mysql][transactions][isolation]") {
  Db db;
  seed_accounts(db.url);
  Engine engine = create_engine(db.url);
  Engine other = create_engine(db.url);
  Transcript t(engine);
  auto sum = [](Connection& c) { return c.exec_driver_sql("SELECT SUM(balance) FROM accounts").scalar_one<std::int64_t>(); };
  auto bump = [&other] {
    Connection w = other.connect();
    w.exec_driver_sql("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
    w.commit();
  };

  Connection rc = engine.connect();
  rc.set_isolation_level(IsolationLevel::read_committed);
  rc.set_next_transaction_read_only();
  CHECK(sum(rc) == 200);
  bump();
  CHECK(sum(rc) == 201);  // READ COMMITTED: the second read sees the other commit
  auto sql = t.take();
  REQUIRE(sql.size() >= 3);
  CHECK(sql[0] == "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
  CHECK(sql[1] == "START TRANSACTION READ ONLY");
  CHECK(sql[2].rfind("SELECT", 0) == 0);
  CHECK_THROWS_WITH(rc.set_next_transaction_read_only(), Catch::Contains("once it has begun"));
  rc.rollback();

  // The engine's default on InnoDB, REPEATABLE READ: one snapshot for the whole transaction.
  Connection rr = engine.connect();
  CHECK(sum(rr) == 201);
  bump();
  CHECK(sum(rr) == 201);
  rr.rollback();
  CHECK(sum(rr) == 202);
  CHECK(Transcript::count(t.take(), "SET TRANSACTION") == 0);

  SessionOptions so;
  so.isolation_level = IsolationLevel::serializable;
  so.read_only = true;
  Session s(engine, so);
  CHECK(s.get<Account>(std::int64_t{1})->balance == 102);
  sql = t.take();
  REQUIRE(sql.size() >= 2);
  CHECK(sql[0] == "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
  CHECK(sql[1] == "START TRANSACTION READ ONLY");
}

TEST_CASE("with_for_update(for_share) takes a shared lock: others may share it but not write",
          "[mysql][locks]") {
  Db db;
  seed_accounts(db.url);
  Engine engine = create_engine(db.url);
  Connection a = engine.connect();
  Connection b = engine.connect();
  b.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1");
  b.commit();
  auto row1 = select<Account>().where(col(&Account::id) == 1);
  CHECK(a.execute(row1.with_for_update(for_share)).all().size() == 1);
  // Another shared lock on the same row is granted at once, even with NOWAIT.
  CHECK(b.execute(row1.with_for_update(for_share, nowait)).all().size() == 1);
  b.rollback();
  // An exclusive lock or a write waits for the shared lock and times out.
  CHECK_THROWS_AS(b.execute(row1.with_for_update(nowait)), OperationalError);
  b.rollback();
  CHECK_THROWS_AS(b.exec_driver_sql("UPDATE accounts SET balance = 0 WHERE id = 1"), SerializationFailure);
  b.rollback();
  // Rows the lock does not cover stay writable.
  b.exec_driver_sql("UPDATE accounts SET balance = 50 WHERE id = 2");
  b.commit();
  a.commit();
  b.exec_driver_sql("UPDATE accounts SET balance = 0 WHERE id = 1");
  b.commit();
  CHECK(a.exec_driver_sql("SELECT SUM(balance) FROM accounts").scalar_one<std::int64_t>() == 50);
}

namespace {

// 70,000 owners; every 7th has one pet (10,000 pets), written by the server itself.
void seed_owners(const std::string& url) {
  Engine e = create_engine(url);
  Connection c = e.connect();
  c.exec_driver_sql("INSERT INTO owners (id, name) SELECT seq, CONCAT('o', seq) FROM seq_1_to_70000");
  c.exec_driver_sql("INSERT INTO pets (owner_id, name) SELECT seq, CONCAT('p', seq) FROM seq_1_to_70000 "
                    "WHERE seq % 7 = 0");
  c.commit();
}

void check_owners(const std::vector<std::shared_ptr<Owner>>& owners) {
  REQUIRE(owners.size() == 70'000);
  std::size_t pets = 0;
  bool matched = true;
  for (const auto& o : owners) {
    pets += o->pets.size();
    const bool expect = o->id % 7 == 0;
    if (o->pets.size() != (expect ? 1u : 0u) || (expect && o->pets[0]->owner_id != o->id)) matched = false;
  }
  CHECK(pets == 10'000);
  CHECK(matched);
}

// The IN-list loads of a transcript: each binds at most the chunk, and all share one SQL text.
void check_chunks(const std::vector<std::string>& sql) {
  std::vector<std::string> loads;
  for (const auto& s : sql)
    if (s.find("FROM `pets`") != std::string::npos) loads.push_back(s);
  REQUIRE(loads.size() == 3);  // 70,000 keys in chunks of 25,000
  CHECK(loads[0] == loads[1]);
  CHECK(loads[1] == loads[2]);
  CHECK(std::count(loads[0].begin(), loads[0].end(), '?') == 25'000);
}

}  // namespace

TEST_CASE("selectinload of 70,000 parents chunks its IN lists under MySQL's parameter cap (sync)",
          "[mysql][loading]") {
  Db db;
  seed_owners(db.url);
  Engine engine = create_engine(db.url);
  Transcript t(engine);
  Session s(engine);
  auto owners = s.scalars(select<Owner>(), selectinload(&Owner::pets));
  auto sql = t.take();
  CHECK(Transcript::count(sql, "SELECT") == 4);  // the owners, then three chunks of pets
  check_chunks(sql);
  check_owners(owners);
}

TEST_CASE("selectinload of 70,000 parents chunks its IN lists under MySQL's parameter cap (async)",
          "[mysql][loading][async]") {
  Db db;
  seed_owners(db.url);
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    Transcript t(engine);
    AsyncSession s(engine);
    auto owners = co_await s.scalars(select<Owner>(), selectinload(&Owner::pets));
    // The three chunks are one statement, so they travel as one batch (one event).
    auto sql = t.take();
    CHECK(Transcript::count(sql, "SELECT") == 2);
    std::uint64_t chunks = 0;
    for (const auto& shape : s.stats().shapes())
      if (shape.sql.find("FROM `pets`") != std::string::npos) {
        chunks += shape.count;
        CHECK(std::count(shape.sql.begin(), shape.sql.end(), '?') == 25'000);
      }
    CHECK(chunks == 3);
    check_owners(owners);
    co_await s.close();
  });
}

namespace {

// Connections opened while this lives get wait_timeout = 1 s: the server then drops them after a
// second idle, as it drops a service's pooled connections after its own wait_timeout. The global
// value is put back at once (the session value, which the pool's reset at check-in would undo,
// cannot reach an idle pooled connection).
struct ShortWaitTimeout {
  Engine admin = create_engine(test::mysql_url());
  Connection c = admin.connect();
  std::int64_t saved = c.exec_driver_sql("SELECT @@GLOBAL.wait_timeout").scalar_one<std::int64_t>();
  ShortWaitTimeout() { c.exec_driver_sql("SET GLOBAL wait_timeout = 1"); }
  ~ShortWaitTimeout() {
    try {
      c.exec_driver_sql("SET GLOBAL wait_timeout = " + std::to_string(saved));
    } catch (...) {
    }
  }
  ShortWaitTimeout(const ShortWaitTimeout&) = delete;
  ShortWaitTimeout& operator=(const ShortWaitTimeout&) = delete;
};

bool server_has_session(int id) {
  Engine admin = create_engine(test::mysql_url());
  Connection c = admin.connect();
  return c.exec_driver_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", {Value(id)})
             .scalar_one<std::int64_t>() == 1;
}

// Opens the pool's only connection under a 1 s wait_timeout, returns it to the pool and waits
// until the server has dropped it; returns its server thread id.
int pooled_connection_dropped_by_server(Engine& engine) {
  int id = 0;
  {
    ShortWaitTimeout short_timeout;
    Connection c = engine.connect();
    id = c.backend_pid();
    CHECK(c.exec_driver_sql("SELECT @@SESSION.wait_timeout").scalar_one<std::int64_t>() == 1);
    c.commit();
  }
  for (int i = 0; i < 100 && server_has_session(id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE_FALSE(server_has_session(id));
  return id;
}

}  // namespace

TEST_CASE("pool_pre_ping replaces a pooled connection the server dropped after wait_timeout", "[mysql][pool]") {
  EngineOptions o;
  o.pool.pool_size = 1;
  o.pool.max_overflow = 0;
  o.pool.pool_pre_ping = true;
  Engine engine = create_engine(test::mysql_url(), o);
  std::atomic<int> connects{0};
  engine.events().on_connect([&connects](const ConnectionEvent&) { ++connects; });
  const int dropped = pooled_connection_dropped_by_server(engine);
  Connection c = engine.connect();  // the ping fails, the pool discards it and opens another
  CHECK(c.exec_driver_sql("SELECT 41 + 1").scalar_one<std::int64_t>() == 42);
  CHECK(c.backend_pid() != dropped);
  CHECK(connects == 2);
}

TEST_CASE("pool_recycle replaces a pooled connection older than the recycle age before the server drops it",
          "[mysql][pool]") {
  EngineOptions o;
  o.pool.pool_size = 1;
  o.pool.max_overflow = 0;
  o.pool.pool_recycle = std::chrono::milliseconds(500);  // shorter than the server's wait_timeout
  Engine engine = create_engine(test::mysql_url(), o);
  std::atomic<int> connects{0};
  engine.events().on_connect([&connects](const ConnectionEvent&) { ++connects; });
  const int dropped = pooled_connection_dropped_by_server(engine);
  Connection c = engine.connect();
  CHECK(c.exec_driver_sql("SELECT 41 + 1").scalar_one<std::int64_t>() == 42);
  CHECK(c.backend_pid() != dropped);
  CHECK(connects == 2);
}

TEST_CASE("without pre-ping a dropped pooled connection fails once with ConnectionLost, then the pool replaces it",
          "[mysql][pool]") {
  EngineOptions o;
  o.pool.pool_size = 1;
  o.pool.max_overflow = 0;
  Engine engine = create_engine(test::mysql_url(), o);
  const int dropped = pooled_connection_dropped_by_server(engine);
  {
    Connection c = engine.connect();
    CHECK_THROWS_AS(c.exec_driver_sql("SELECT 1"), ConnectionLost);
    c.rollback();
  }
  Connection c = engine.connect();
  CHECK(c.exec_driver_sql("SELECT 41 + 1").scalar_one<std::int64_t>() == 42);
  CHECK(c.backend_pid() != dropped);
}

// MySQL / MariaDB behaviour seen through corm against a real server: values that must round-trip
// exactly, positional parameters, upserts, generated ids and error classification.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mysql/mysql_db.hpp"
#include "support/test_db.hpp"

using namespace corm;

namespace {

std::string table(Connection& c, const std::string& base, const std::string& columns) {
  const std::string name = quote_identifier(Dialect::mysql, test::unique_name(base));
  c.exec_driver_sql("CREATE TABLE " + name + " (" + columns + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  return name;
}

template <class E>
E caught(Connection& c, const std::string& sql, std::vector<Value> params = {}) {
  try {
    c.exec_driver_sql(sql, params);
  } catch (const E& e) {
    return e;
  }
  FAIL("expected an exception from: " << sql);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("utf8mb4 end to end: an emoji and other 4-byte characters round-trip", "[mysql][types]") {
  auto engine = create_engine(test::mysql_url());
  auto c = engine.connect();
  const auto t = table(c, "emoji", "id INT PRIMARY KEY, s VARCHAR(50)");
  const std::string s = "ok 😀 𝄞 한국어 — \\ ' \"";
  c.exec_driver_sql("INSERT INTO " + t + " VALUES (?, ?)", {Value(1), Value(s)});
  CHECK(c.exec_driver_sql("SELECT s FROM " + t).scalar_one<std::string>() == s);
  // Compared on the server too, not just echoed back.
  CHECK(c.exec_driver_sql("SELECT count(*) FROM " + t + " WHERE s = ?", {Value(s)}).scalar_one<std::int64_t>() == 1);
}

TEST_CASE("DECIMAL is exact to the last digit, booleans read back as bool, bytes as bytes", "[mysql][types]") {
  auto engine = create_engine(test::mysql_url());
  auto c = engine.connect();
  const auto t = table(c, "exact", "id INT PRIMARY KEY, amount DECIMAL(20,2), flag BOOLEAN, bin VARBINARY(16)");
  const Bytes bin{std::byte{0}, std::byte{0xff}, std::byte{0x27}, std::byte{0}};
  c.exec_driver_sql("INSERT INTO " + t + " VALUES (?, ?, ?, ?)", {Value(1), Value(Decimal("0.10")), Value(true), Value(bin)});
  c.exec_driver_sql("INSERT INTO " + t + " VALUES (?, ?, ?, ?)", {Value(2), Value(Decimal("0.20")), Value(false), Value(Bytes{})});
  // 0.1 + 0.2 is exactly 0.30 in DECIMAL, not 0.30000000000000004.
  CHECK(c.exec_driver_sql("SELECT SUM(amount) FROM " + t).scalar_one<Decimal>().str() == "0.30");
  CHECK(c.exec_driver_sql("SELECT count(*) FROM " + t + " WHERE amount = ?", {Value(Decimal("0.10"))}).scalar_one<std::int64_t>() == 1);
  auto rows = c.exec_driver_sql("SELECT flag, bin FROM " + t + " ORDER BY id").all();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].get<bool>(0) == true);
  CHECK(rows[1].get<bool>(0) == false);
  CHECK(rows[0].get<Bytes>(1) == bin);
  CHECK(rows[1].get<Bytes>(1).empty());
}

TEST_CASE("a named parameter referenced twice is bound twice on MySQL", "[mysql][text]") {
  auto engine = create_engine(test::mysql_url());
  auto c = engine.connect();
  const auto t = table(c, "twice", "id INT PRIMARY KEY, a INT, b INT");
  c.execute(text("INSERT INTO " + t + " VALUES (:id, :v, :v)"), {{"id", 1}, {"v", 7}});
  c.execute(text("INSERT INTO " + t + " VALUES (:id, :v, :w)"), {{"id", 2}, {"v", 7}, {"w", 8}});
  CHECK(c.execute(text("SELECT id FROM " + t + " WHERE a = :v AND b = :v"), {{"v", 7}}).scalars<std::int64_t>() ==
        std::vector<std::int64_t>{1});
  // Raw SQL with too few values is refused before it is sent, saying why.
  CHECK_THROWS_WITH(c.exec_driver_sql("SELECT ? + ?", {Value(1)}),
                    Catch::Contains("2 parameter placeholder(s) but 1 value(s)") && Catch::Contains("positional"));
}

TEST_CASE("an upsert inserts, then updates through ON DUPLICATE KEY UPDATE", "[mysql][upsert]") {
  auto engine = create_engine(test::mysql_url());
  auto c = engine.connect();
  const auto t = table(c, "upsert", "sku VARCHAR(20) PRIMARY KEY, qty INT NOT NULL");
  const std::string up = "INSERT INTO " + t + " (sku, qty) VALUES (?, ?) ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)";
  CHECK(c.exec_driver_sql(up, {Value("a"), Value(5)}).rowcount() == 1);  // inserted
  CHECK(c.exec_driver_sql(up, {Value("a"), Value(3)}).rowcount() == 2);  // updated (MySQL counts 2)
  CHECK(c.exec_driver_sql("SELECT qty FROM " + t).scalar_one<std::int64_t>() == 8);
}

TEST_CASE("a multi-row INSERT ... RETURNING gives each row its id, under concurrent inserts", "[mysql][ids]") {
  auto engine = create_engine(test::mysql_url());
  std::string t;
  {
    auto c = engine.connect();
    t = table(c, "ids", "id BIGINT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(20) NOT NULL");
    c.commit();
  }
  auto insert_batch = [&](const std::string& prefix, std::vector<std::pair<std::int64_t, std::string>>& out) {
    auto c = engine.connect();
    for (int round = 0; round < 20; ++round) {
      std::vector<Value> params;
      std::string sql = "INSERT INTO " + t + " (label) VALUES ";
      for (int i = 0; i < 5; ++i) {
        sql += i ? ", (?)" : "(?)";
        params.emplace_back(prefix + std::to_string(round * 5 + i));
      }
      sql += " RETURNING id, label";
      for (const Row& r : c.exec_driver_sql(sql, params)) out.emplace_back(r.get<std::int64_t>(0), r.get<std::string>(1));
      c.commit();
    }
  };
  std::vector<std::pair<std::int64_t, std::string>> a, b;
  std::thread other([&] { insert_batch("b", b); });
  insert_batch("a", a);
  other.join();
  REQUIRE(a.size() == 100);
  REQUIRE(b.size() == 100);
  auto c = engine.connect();
  for (const auto* batch : {&a, &b})
    for (const auto& [id, label] : *batch)
      CHECK(c.exec_driver_sql("SELECT label FROM " + t + " WHERE id = ?", {Value(id)}).scalar_one<std::string>() == label);
}

TEST_CASE("server errors become corm's classes with the key, constraint, column or table named", "[mysql][errors]") {
  // A database of its own: foreign key names are unique per database, so a second run would
  // collide with the first one's tables.
  const MetaData no_tables;
  test::MysqlDb db(no_tables);
  auto engine = create_engine(db.url);
  auto c = engine.connect();
  const auto parent = table(c, "parent", "id INT PRIMARY KEY, email VARCHAR(50), CONSTRAINT uq_parent_email UNIQUE (email)");
  const std::string parent_name = parent.substr(1, parent.size() - 2);
  const auto child = table(c, "child",
                           "id INT PRIMARY KEY, parent_id INT NOT NULL, n INT, CONSTRAINT fk_child_parent FOREIGN KEY "
                           "(parent_id) REFERENCES " + parent + " (id), CONSTRAINT ck_child_n CHECK (n > 0)");
  c.exec_driver_sql("INSERT INTO " + parent + " VALUES (1, ?)", {Value("ann@example.com")});

  auto dup = caught<IntegrityError>(c, "INSERT INTO " + parent + " VALUES (2, ?)", {Value("ann@example.com")});
  CHECK(dup.kind() == IntegrityKind::unique);
  CHECK(dup.constraint() == "uq_parent_email");
  CHECK(std::string(dup.what()) == "unique constraint violated (key 'uq_parent_email')");
  CHECK(dup.result_code() == 1062);
  CHECK(dup.sqlstate() == "23000");
  // The duplicate value is the server's words, never corm's.
  CHECK_THAT(dup.what(), !Catch::Contains("ann@example.com"));
  CHECK_THAT(dup.server_message(), Catch::Contains("ann@example.com"));

  auto orphan = caught<IntegrityError>(c, "INSERT INTO " + child + " VALUES (1, 99, 1)");
  CHECK(orphan.kind() == IntegrityKind::foreign_key);
  CHECK(orphan.constraint() == "fk_child_parent");
  CHECK(std::string(orphan.what()) ==
        "foreign key constraint violated (constraint 'fk_child_parent'): the referenced row does not exist");

  c.exec_driver_sql("INSERT INTO " + child + " VALUES (1, 1, 1)");
  auto referenced = caught<IntegrityError>(c, "DELETE FROM " + parent + " WHERE id = 1");
  CHECK(referenced.kind() == IntegrityKind::foreign_key);
  CHECK(std::string(referenced.what()) ==
        "foreign key constraint violated (constraint 'fk_child_parent'): the row is still referenced");

  auto null = caught<IntegrityError>(c, "INSERT INTO " + child + " VALUES (2, ?, 1)", {Value(Null{})});
  CHECK(null.kind() == IntegrityKind::not_null);
  CHECK(null.column() == "parent_id");
  CHECK(std::string(null.what()) == "NOT NULL constraint violated (column 'parent_id')");

  auto check = caught<IntegrityError>(c, "INSERT INTO " + child + " VALUES (3, 1, ?)", {Value(-5)});
  CHECK(check.kind() == IntegrityKind::check);
  CHECK(check.constraint() == "ck_child_n");
  CHECK(std::string(check.what()) == "check constraint violated (constraint 'ck_child_n')");

  auto missing = caught<ProgrammingError>(c, "SELECT * FROM no_such_table_anywhere");
  CHECK(missing.table() == "no_such_table_anywhere");
  CHECK_THAT(missing.what(), Catch::StartsWith("table 'no_such_table_anywhere' does not exist"));
  (void)parent_name;
}

TEST_CASE("a lock wait timeout is retryable and a deadlock is DeadlockDetected", "[mysql][errors][locks]") {
  auto engine = create_engine(test::mysql_url());
  std::string t;
  {
    auto c = engine.connect();
    t = table(c, "locks", "id INT PRIMARY KEY, v INT");
    c.exec_driver_sql("INSERT INTO " + t + " VALUES (1, 0), (2, 0)");
    c.commit();
  }
  auto a = engine.connect();
  auto b = engine.connect();
  b.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1");
  a.exec_driver_sql("UPDATE " + t + " SET v = 1 WHERE id = 1");
  try {
    b.exec_driver_sql("UPDATE " + t + " SET v = 2 WHERE id = 1");
    FAIL("the second writer must time out");
  } catch (const SerializationFailure& e) {
    CHECK(e.is_retryable());
    CHECK(e.result_code() == 1205);
    CHECK_THAT(e.what(), Catch::StartsWith("lock wait timeout exceeded"));
  }
  b.rollback();
  a.rollback();

  // A real deadlock: each holds one row and asks for the other's.
  b.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 20");
  a.exec_driver_sql("UPDATE " + t + " SET v = 1 WHERE id = 1");
  b.exec_driver_sql("UPDATE " + t + " SET v = 1 WHERE id = 2");
  std::exception_ptr from_a;
  std::thread ta([&] {
    try {
      a.exec_driver_sql("UPDATE " + t + " SET v = 2 WHERE id = 2");
    } catch (...) {
      from_a = std::current_exception();
    }
  });
  std::exception_ptr from_b;
  // Give `a` time to queue on row 2 first, so the deadlock is detected on one side only.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  try {
    b.exec_driver_sql("UPDATE " + t + " SET v = 2 WHERE id = 1");
  } catch (...) {
    from_b = std::current_exception();
  }
  ta.join();
  REQUIRE((from_a != nullptr) != (from_b != nullptr));
  try {
    std::rethrow_exception(from_a ? from_a : from_b);
  } catch (const DeadlockDetected& e) {
    CHECK(e.result_code() == 1213);
    CHECK(e.is_retryable());
  }
  a.rollback();
  b.rollback();
}

TEST_CASE("a connection killed by the server raises ConnectionLost and the pool replaces it", "[mysql][faults]") {
  auto engine = create_engine(test::mysql_url());
  auto admin = create_engine(test::mysql_url());
  int id = 0;
  {
    auto c = engine.connect();
    id = c.backend_pid();
    c.exec_driver_sql("SELECT 1");  // opens the transaction the kill ends
    {
      auto k = admin.connect();
      k.exec_driver_sql("KILL CONNECTION " + std::to_string(id));
    }
    CHECK_THROWS_AS(c.exec_driver_sql("SELECT 1"), ConnectionLost);
    c.rollback();
  }
  auto c = engine.connect();
  CHECK(c.backend_pid() != id);
  CHECK(c.exec_driver_sql("SELECT 41 + 1").scalar_one<std::int64_t>() == 42);
}

TEST_CASE("the server's transaction state is what in_transaction reports", "[mysql][transactions]") {
  auto engine = create_engine(test::mysql_url());
  auto c = engine.connect();
  const auto t = table(c, "tx", "id INT PRIMARY KEY");
  c.commit();
  c.exec_driver_sql("INSERT INTO " + t + " VALUES (1)");
  CHECK(c.in_transaction());
  c.rollback();
  CHECK_FALSE(c.in_transaction());
  CHECK(c.exec_driver_sql("SELECT count(*) FROM " + t).scalar_one<std::int64_t>() == 0);
  // A savepoint's rollback keeps the outer work.
  c.exec_driver_sql("INSERT INTO " + t + " VALUES (1)");
  {
    auto sp = c.begin_nested();
    c.exec_driver_sql("INSERT INTO " + t + " VALUES (2)");
    sp.rollback();
  }
  c.commit();
  CHECK(c.exec_driver_sql("SELECT id FROM " + t).scalars<std::int64_t>() == std::vector<std::int64_t>{1});
}

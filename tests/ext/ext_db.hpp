#pragma once
// Models and a database for the ext tests: products (soft delete, unique name), notes (plain
// delete), accounts (transfers, deadlocks), ledger lines (task groups). On PostgreSQL each
// ExtDb is a fresh schema first on every pooled connection's search_path (URL startup options),
// dropped at the end; on MySQL a fresh database named in the URL, dropped at the end; on SQLite
// a fresh file. Also counts the queries an engine sends.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corm/asyncio/async_engine.hpp"
#include "corm/engine/engine.hpp"
#include "corm/sql.hpp"
#include "support/test_db.hpp"

namespace corm::ext_test {

struct Product {
  std::int64_t id{};
  std::string name;
  std::int64_t price{};
  bool is_deleted = false;
};

struct Note {
  std::int64_t id{};
  std::string text;
};

struct Account {
  std::int64_t id{};
  std::string owner;
  std::int64_t balance{};
};

struct Line {
  std::int64_t id{};
  std::string label;
};

}  // namespace corm::ext_test

template <>
struct corm::Model<corm::ext_test::Product> {
  using P = corm::ext_test::Product;
  static constexpr auto table = corm::table("ext_products", corm::column("id", &P::id, corm::primary_key, corm::identity),
                                            // Unique, so bounded: MySQL indexes no unbounded string.
                                            corm::column("name", &P::name, corm::max_length(100), corm::unique),
                                            corm::column("price", &P::price),
                                            corm::column("is_deleted", &P::is_deleted));
};

template <>
struct corm::Model<corm::ext_test::Note> {
  using N = corm::ext_test::Note;
  static constexpr auto table = corm::table("ext_notes", corm::column("id", &N::id, corm::primary_key, corm::identity),
                                            corm::column("text", &N::text));
};

template <>
struct corm::Model<corm::ext_test::Account> {
  using A = corm::ext_test::Account;
  static constexpr auto table = corm::table("ext_accounts", corm::column("id", &A::id, corm::primary_key),
                                            corm::column("owner", &A::owner), corm::column("balance", &A::balance));
};

template <>
struct corm::Model<corm::ext_test::Line> {
  using L = corm::ext_test::Line;
  static constexpr auto table = corm::table("ext_lines", corm::column("id", &L::id, corm::primary_key),
                                            corm::column("label", &L::label));
};

namespace corm::test {

/// A URL whose connections see `schema` first (PostgreSQL) — also for the replica.
inline std::string schema_url(const std::string& base, const std::string& schema) {
  return Url::parse(base).with_query("options", "-c search_path=" + schema).str();
}

/// The URL of database `name` on the MySQL server of CORM_TEST_MYSQL.
inline std::string mysql_database_url(const std::string& name) {
  return Url::parse(mysql_url()).with_database(name).str_with_password();
}

struct ExtDb {
  std::string schema = is_sqlite() ? std::string() : unique_name("ext");
  std::string url = is_postgres() ? schema_url(pg_url(), schema) : is_mysql() ? mysql_database_url(schema) : sqlite_url();
  MetaData metadata;

  ExtDb() {
    if (is_postgres()) {
      Engine admin = create_engine(pg_url());
      Connection c = admin.connect();
      c.exec_driver_sql("CREATE SCHEMA " + quote_identifier(Dialect::postgresql, schema));
      c.commit();
    }
    if (is_mysql()) {
      Engine admin = create_engine(mysql_url());
      Connection c = admin.connect();
      c.exec_driver_sql("CREATE DATABASE " + quote_identifier(Dialect::mysql, schema));
    }
    using namespace corm::ext_test;
    metadata.add<Product>().add<Note>().add<Account>().add<Line>();
    Engine e = create_engine(url);
    Connection c = e.connect();
    metadata.create_all(c);
    c.commit();
  }
  ~ExtDb() {
    if (is_sqlite()) return;
    try {
      if (is_mysql()) {
        Engine admin = create_engine(mysql_url());
        Connection c = admin.connect();
        c.exec_driver_sql("DROP DATABASE " + quote_identifier(Dialect::mysql, schema));
        return;
      }
      Engine admin = create_engine(pg_url());
      Connection c = admin.connect();
      c.exec_driver_sql("DROP SCHEMA " + quote_identifier(Dialect::postgresql, schema) + " CASCADE");
      c.commit();
    } catch (...) {
    }
  }
  /// Row count of a table, through a fresh connection (what other transactions see).
  std::int64_t rows(std::string_view table) const {
    Engine e = create_engine(url);
    Connection c = e.connect();
    return c.exec_driver_sql("SELECT count(*) FROM " + quote_identifier(e.dialect(), table)).scalar_one<std::int64_t>();
  }
};

/// Counts the queries an engine sends (before_execute), not transaction control.
struct Queries {
  std::shared_ptr<std::atomic<int>> n = std::make_shared<std::atomic<int>>(0);
  template <class E>
  explicit Queries(E& engine) {
    engine.events().before_execute([c = n](const StatementEvent& e) {
      for (std::string_view control :
           {"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET "})
        if (e.sql.substr(0, control.size()) == control) return;
      ++*c;
    });
  }
  int take() { return n->exchange(0); }
};

}  // namespace corm::test

#pragma once
// A database for one ORM integration test: a fresh SQLite file; on PostgreSQL a fresh schema
// that every pooled connection has first on its search_path (set in the URL's startup options);
// on MySQL a fresh database named in the URL. Schema and database are dropped with everything in
// them at the end. Also counts statements through the engine's before_execute event — the query
// counts the tests assert.

#include <atomic>
#include <memory>
#include <string>

#include "corm/asyncio/async_engine.hpp"
#include "corm/engine/engine.hpp"
#include "orm/orm_models.hpp"
#include "support/test_db.hpp"

namespace corm::test {

inline std::string orm_url(const std::string& schema) {
  if (is_postgres()) return Url::parse(pg_url()).with_query("options", "-c search_path=" + schema).str();
  if (is_mysql()) return Url::parse(mysql_url()).with_database(schema).str_with_password();
  return sqlite_url();
}

struct OrmDb {
  std::string schema = is_sqlite() ? std::string() : unique_name("orm");
  std::string url = orm_url(schema);
  MetaData metadata;

  OrmDb() {
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
    using namespace corm::orm_test;
    metadata.add<Author>().add<Book>().add<Review>().add<Doc>().add<Counter>().add<Note>().add<Parent>().add<Child>().add<Tag>().add<BookTag>();
    Engine e = create_engine(url);
    Connection c = e.connect();
    metadata.create_all(c);
    c.commit();
  }
  ~OrmDb() {
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
};

/// Counts the queries an engine sends (before_execute), not transaction control (BEGIN,
/// START TRANSACTION, COMMIT, SAVEPOINT, ...).
struct QueryCounter {
  // Shared with the listener, which lives as long as the engine.
  std::shared_ptr<std::atomic<int>> n = std::make_shared<std::atomic<int>>(0);
  template <class E>
  explicit QueryCounter(E& engine) {
    engine.events().before_execute([c = n](const StatementEvent& e) {
      for (std::string_view control :
           {"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"})
        if (e.sql.substr(0, control.size()) == control) return;
      ++*c;
    });
  }
  int take() { return n->exchange(0); }
};

}  // namespace corm::test

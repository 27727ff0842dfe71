#pragma once
// A database for one sql integration test: a fresh SQLite file, on PostgreSQL a fresh schema
// (first on the search_path), on MySQL a fresh database, dropped with everything in it at the
// end — so the fixed table names of sql/models.hpp never collide between tests running in
// parallel.

#include <string>
#include <vector>

#include "corm/engine/engine.hpp"
#include "sql/models.hpp"
#include "support/test_db.hpp"

namespace corm::test {

/// On MySQL: creates a database of its own for one test and names it in `name`; returns the URL
/// to connect to (database_url() elsewhere).
inline std::string fresh_database_url(std::string& name) {
  if (!is_mysql()) return database_url();
  name = unique_name("sql");
  Engine admin = create_engine(mysql_url());
  Connection c = admin.connect();
  c.exec_driver_sql("CREATE DATABASE " + quote_identifier(Dialect::mysql, name));
  return Url::parse(mysql_url()).with_database(name).str_with_password();
}

struct SqlDb {
  std::string mysql_database;  // first: engine's URL names it
  Engine engine;
  Connection conn;
  std::string schema;
  MetaData metadata;

  SqlDb() : engine(create_engine(fresh_database_url(mysql_database))), conn(engine.connect()) {
    if (is_postgres()) {
      schema = unique_name("sql");
      conn.exec_driver_sql("CREATE SCHEMA " + quote_identifier(Dialect::postgresql, schema));
      conn.exec_driver_sql("SET search_path TO " + quote_identifier(Dialect::postgresql, schema));
      conn.commit();
    }
    using namespace corm::test_models;
    metadata.add<Author>().add<Book>().add<Tag>().add<BookTag>().add<Profile>().add<Employee>().add<Odd>();
    metadata.create_all(conn);
    conn.commit();
  }
  ~SqlDb() {
    try {
      conn.rollback();
      if (!schema.empty()) {
        conn.exec_driver_sql("DROP SCHEMA " + quote_identifier(Dialect::postgresql, schema) + " CASCADE");
        conn.commit();
      }
      if (!mysql_database.empty()) {
        conn.exec_driver_sql("DROP DATABASE " + quote_identifier(Dialect::mysql, mysql_database));
        conn.commit();
      }
    } catch (...) {
    }
  }

  /// Executes `s` and decodes every row as its row_type.
  template <class S>
  std::vector<typename S::row_type> all(const S& s) {
    std::vector<typename S::row_type> out;
    for (const Row& row : conn.execute(s)) out.push_back(S::decode(row));
    return out;
  }
};

}  // namespace corm::test

#pragma once
// A database for one sql integration test: a fresh SQLite file, or on PostgreSQL a fresh schema
// (first on the search_path) dropped with everything in it at the end — so the fixed table
// names of sql/models.hpp never collide between tests running in parallel.

#include <string>
#include <vector>

#include "corm/engine/engine.hpp"
#include "sql/models.hpp"
#include "support/test_db.hpp"

namespace corm::test {

struct SqlDb {
  Engine engine;
  Connection conn;
  std::string schema;
  MetaData metadata;

  SqlDb() : engine(create_engine(database_url())), conn(engine.connect()) {
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

#pragma once
// A database of its own on the CORM_TEST_MYSQL server for one test (mapped table names are fixed,
// so tests that share models cannot share a database), with the given tables created; dropped
// with everything in it at the end.

#include <corm/corm.hpp>
#include <corm/sql/schema/metadata.hpp>

#include <string>

#include "support/test_db.hpp"

namespace corm::test {

struct MysqlDb {
  std::string name = unique_name("mysql_db");
  std::string url = Url::parse(mysql_url()).with_database(name).str_with_password();

  explicit MysqlDb(const MetaData& tables) {
    {
      Engine admin = create_engine(mysql_url());
      Connection c = admin.connect();
      c.exec_driver_sql("CREATE DATABASE " + quote_identifier(Dialect::mysql, name));
    }
    Engine e = create_engine(url);
    Connection c = e.connect();
    tables.create_all(c);
    c.commit();
  }
  ~MysqlDb() {
    try {
      Engine admin = create_engine(mysql_url());
      Connection c = admin.connect();
      c.exec_driver_sql("DROP DATABASE " + quote_identifier(Dialect::mysql, name));
    } catch (...) {
      // A scratch database left behind must not fail the test that used it.
    }
  }
  MysqlDb(const MysqlDb&) = delete;
  MysqlDb& operator=(const MysqlDb&) = delete;
};

}  // namespace corm::test

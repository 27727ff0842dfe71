#include <catch2/catch.hpp>

#include "corm/core/error.hpp"
#include "corm/core/isolation_level.hpp"

using corm::IsolationLevel;
using Catch::Matchers::Contains;

TEST_CASE("isolation levels print as SQL spells them", "[isolation]") {
  CHECK(corm::to_sql(IsolationLevel::autocommit) == "AUTOCOMMIT");
  CHECK(corm::to_sql(IsolationLevel::read_uncommitted) == "READ UNCOMMITTED");
  CHECK(corm::to_sql(IsolationLevel::read_committed) == "READ COMMITTED");
  CHECK(corm::to_sql(IsolationLevel::repeatable_read) == "REPEATABLE READ");
  CHECK(corm::to_sql(IsolationLevel::serializable) == "SERIALIZABLE");
}

TEST_CASE("isolation level parsing ignores case and accepts spaces or underscores", "[isolation]") {
  CHECK(corm::parse_isolation_level("read committed") == IsolationLevel::read_committed);
  CHECK(corm::parse_isolation_level("READ_COMMITTED") == IsolationLevel::read_committed);
  CHECK(corm::parse_isolation_level("  Repeatable  Read ") == IsolationLevel::repeatable_read);
  CHECK(corm::parse_isolation_level("serializable") == IsolationLevel::serializable);
  CHECK(corm::parse_isolation_level("autocommit") == IsolationLevel::autocommit);
  CHECK(corm::parse_isolation_level("read_uncommitted") == IsolationLevel::read_uncommitted);
  for (auto l : {IsolationLevel::autocommit, IsolationLevel::read_uncommitted, IsolationLevel::read_committed,
                 IsolationLevel::repeatable_read, IsolationLevel::serializable})
    CHECK(corm::parse_isolation_level(corm::to_sql(l)) == l);
}

TEST_CASE("an unknown isolation level is a ConfigError listing the accepted values", "[isolation]") {
  CHECK_THROWS_AS(corm::parse_isolation_level("snapshot"), corm::ConfigError);
  CHECK_THROWS_WITH(corm::parse_isolation_level("snapshot"),
                    Contains("'snapshot'") && Contains("REPEATABLE READ") && Contains("AUTOCOMMIT"));
  CHECK_THROWS_AS(corm::parse_isolation_level(""), corm::ConfigError);
  CHECK_THROWS_AS(corm::parse_isolation_level("readcommitted"), corm::ConfigError);
}

#include "corm/migrate/sql_literal.hpp"

#include "corm/core/error.hpp"

namespace corm::migrate {

std::string sql_string_literal(Dialect d, std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') throw ConfigError("a value written into offline SQL contains a NUL byte, which no SQL literal can hold");
    if (c == '\\' && d == Dialect::postgresql)
      throw ConfigError("a value written into offline SQL contains a backslash, whose meaning in a PostgreSQL literal "
                        "depends on standard_conforming_strings; use a value without one");
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace corm::migrate

#include "corm/migrate/sql_literal.hpp"

#include "corm/core/error.hpp"

namespace corm::migrate {

std::string sql_string_literal(Dialect d, std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') throw ConfigError("a value written into offline SQL contains a NUL byte, which no SQL literal can hold");
    if (c == '\\' && d != Dialect::sqlite)
      throw ConfigError("a value written into offline SQL contains a backslash, whose meaning in a " +
                        std::string(dialect_name(d)) +
                        " literal depends on the server's settings (standard_conforming_strings, "
                        "NO_BACKSLASH_ESCAPES); use a value without one");
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace corm::migrate

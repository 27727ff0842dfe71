#include "corm/core/dialect.hpp"

#include <charconv>

#include "corm/core/error.hpp"

namespace corm {

namespace {
constexpr DialectTraits postgresql_traits{
    .name = "postgresql",
    .identifier_quote = '"',
    .numbered_placeholders = true,
    .supports_returning = true,
    .supports_update_returning = true,
    .supports_ilike = true,
    .supports_row_locks = true,
    .transactional_ddl = true,
    .supports_array_params = true,
    .has_server_process = true,
    .supports_two_phase = true,
    .default_isolation = "READ COMMITTED",
    .max_identifier_length = 63,  // NAMEDATALEN - 1
};
constexpr DialectTraits sqlite_traits{
    .name = "sqlite",
    .identifier_quote = '"',
    .numbered_placeholders = true,
    .supports_returning = true,
    .supports_update_returning = true,
    .supports_ilike = false,
    .supports_row_locks = false,
    .transactional_ddl = true,
    .supports_array_params = false,
    .has_server_process = false,
    .supports_two_phase = false,
    .default_isolation = "SERIALIZABLE",
};
// MariaDB ≥ 10.5 has INSERT/DELETE … RETURNING; MySQL 8 has none (see docs/mysql.md).
constexpr DialectTraits mysql_traits{
    .name = "mysql",
    .identifier_quote = '`',
    .numbered_placeholders = false,
    .supports_returning = true,
    .supports_update_returning = false,
    .supports_ilike = false,
    .supports_row_locks = true,
    .transactional_ddl = false,
    .supports_array_params = false,
    .has_server_process = true,
    .supports_two_phase = false,
    .expands_in_lists = true,
    .max_bound_parameters = 65'535,  // the binary protocol's 2-byte parameter count
    .default_isolation = "REPEATABLE READ",
    .max_identifier_length = 64,
    .identifier_length_in_chars = true,
};
}  // namespace

const DialectTraits& dialect_traits(Dialect d) noexcept {
  switch (d) {
    case Dialect::postgresql: return postgresql_traits;
    case Dialect::mysql: return mysql_traits;
    case Dialect::sqlite: break;
  }
  return sqlite_traits;
}

std::string_view dialect_name(Dialect d) noexcept { return dialect_traits(d).name; }

std::string quote_identifier(Dialect d, std::string_view name) {
  if (name.empty()) throw ConfigError("an identifier (table or column name) cannot be empty");
  if (name.find('\0') != std::string_view::npos)
    throw ConfigError("identifier contains a NUL byte; table and column names cannot hold one");
  const DialectTraits& traits = dialect_traits(d);
  if (traits.max_identifier_length > 0 && name.size() > traits.max_identifier_length) {
    // Bytes first: a name within the limit in bytes is within it in characters too.
    std::size_t length = name.size();
    if (traits.identifier_length_in_chars) {
      length = 0;
      for (char c : name) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    if (length > traits.max_identifier_length)
      throw ConfigError(std::string("identifier \"") + std::string(name) + "\" is " + std::to_string(length) +
                        (traits.identifier_length_in_chars ? " characters" : " bytes") + " long; " +
                        std::string(traits.name) + " allows at most " + std::to_string(traits.max_identifier_length) +
                        (traits.identifier_length_in_chars ? " characters" : " bytes") +
                        " (a longer name would be truncated or refused by the server, and two names alike in "
                        "their first " + std::to_string(traits.max_identifier_length) +
                        " would collide): shorten the table, column, index or constraint name");
  }
  const char quote = traits.identifier_quote;
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back(quote);
  for (char c : name) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

void append_placeholder(std::string& out, Dialect d, std::size_t n) {
  if (!dialect_traits(d).numbered_placeholders) {
    out.push_back('?');
    return;
  }
  // SQLite's ?NNN form lets one value appear several times, exactly like PostgreSQL's $n.
  out.push_back(d == Dialect::postgresql ? '$' : '?');
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;
  out.append(buf, end);
}

}  // namespace corm

#include "corm/core/dialect.hpp"

#include <charconv>

#include "corm/core/error.hpp"

namespace corm {

std::string_view dialect_name(Dialect d) noexcept {
  return d == Dialect::postgresql ? "postgresql" : "sqlite";
}

std::string quote_identifier(Dialect d, std::string_view name) {
  // Both dialects use the SQL-standard double quote, so `d` does not change the spelling today;
  // it stays in the signature so a dialect with other rules can be added without touching callers.
  (void)d;
  if (name.empty()) throw ConfigError("an identifier (table or column name) cannot be empty");
  if (name.find('\0') != std::string_view::npos)
    throw ConfigError("identifier contains a NUL byte; table and column names cannot hold one");
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void append_placeholder(std::string& out, Dialect d, std::size_t n) {
  // SQLite's ?NNN form lets one value appear several times, exactly like PostgreSQL's $n.
  out.push_back(d == Dialect::postgresql ? '$' : '?');
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;
  out.append(buf, end);
}

}  // namespace corm

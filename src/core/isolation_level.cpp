#include "corm/core/isolation_level.hpp"

#include <string>

#include "corm/core/error.hpp"

namespace corm {

std::string_view to_sql(IsolationLevel level) noexcept {
  switch (level) {
    case IsolationLevel::autocommit: return "AUTOCOMMIT";
    case IsolationLevel::read_uncommitted: return "READ UNCOMMITTED";
    case IsolationLevel::read_committed: return "READ COMMITTED";
    case IsolationLevel::repeatable_read: return "REPEATABLE READ";
    case IsolationLevel::serializable: return "SERIALIZABLE";
  }
  return "SERIALIZABLE";
}

IsolationLevel parse_isolation_level(std::string_view text) {
  // Normalise to upper case with single spaces, so "read_committed", " Read  Committed " and
  // SQLAlchemy's "READ COMMITTED" all match.
  std::string norm;
  for (char c : text) {
    if (c == '_' || c == ' ' || c == '\t') {
      if (!norm.empty() && norm.back() != ' ') norm.push_back(' ');
    } else {
      norm.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
  }
  if (!norm.empty() && norm.back() == ' ') norm.pop_back();
  for (auto level : {IsolationLevel::autocommit, IsolationLevel::read_uncommitted,
                     IsolationLevel::read_committed, IsolationLevel::repeatable_read,
                     IsolationLevel::serializable}) {
    if (norm == to_sql(level)) return level;
  }
  std::string shown(text.substr(0, 40));
  throw ConfigError("unknown isolation level '" + shown +
                    "'; use one of AUTOCOMMIT, READ UNCOMMITTED, READ COMMITTED, REPEATABLE READ, "
                    "SERIALIZABLE");
}

}  // namespace corm

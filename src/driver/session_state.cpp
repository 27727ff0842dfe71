#include "driver/session_state.hpp"

namespace corm::driver::session_state {

namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool word_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool equal_at(std::string_view sql, std::size_t i, std::string_view needle) noexcept {
  if (sql.size() - i < needle.size()) return false;
  for (std::size_t k = 0; k < needle.size(); ++k)
    if (lower(sql[i + k]) != needle[k]) return false;
  return true;
}

// The position of the first character after blanks and comments.
std::size_t skip_blank(std::string_view sql) noexcept {
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(') {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

}  // namespace

bool mentions_any(std::string_view sql, std::initializer_list<std::string_view> needles) noexcept {
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = lower(sql[i]);
    for (std::string_view n : needles)
      if (n.front() == c && equal_at(sql, i, n)) return true;
  }
  return false;
}

bool starts_with_keyword(std::string_view sql, std::string_view keyword) noexcept {
  const std::size_t i = skip_blank(sql);
  if (!equal_at(sql, i, keyword)) return false;
  const std::size_t end = i + keyword.size();
  return end == sql.size() || !word_char(sql[end]);
}

bool pg_changes_session(std::string_view sql) noexcept {
  if (starts_with_keyword(sql, "set")) {
    const std::string_view rest = sql.substr(skip_blank(sql) + 3);
    return !starts_with_keyword(rest, "local") && !starts_with_keyword(rest, "transaction") &&
           !starts_with_keyword(rest, "constraints");
  }
  // "temp" also covers TEMPORARY; "hold" covers DECLARE ... WITH HOLD.
  return mentions_any(sql, {"set_config", "advisory", "listen", "prepare", "temp", "hold", "set session", "set role"});
}

bool sqlite_changes_session(std::string_view sql) noexcept {
  // "pragma " with its blank: the pragma_table_info() family only reads.
  return starts_with_keyword(sql, "pragma") || mentions_any(sql, {"pragma ", "attach", "temp"});
}

bool mysql_changes_session(std::string_view sql) noexcept {
  if (starts_with_keyword(sql, "set")) {
    const std::string_view rest = sql.substr(skip_blank(sql) + 3);
    return !starts_with_keyword(rest, "transaction");
  }
  return starts_with_keyword(sql, "use") || mentions_any(sql, {"@", "get_lock", "temporary"});
}

}  // namespace corm::driver::session_state

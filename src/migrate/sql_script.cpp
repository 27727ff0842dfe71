#include "corm/migrate/sql_script.hpp"

#include <cctype>

namespace corm::migrate {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The keyword starting at i, upper-cased, when it stands alone as a word.
std::string word_at(std::string_view s, std::size_t i) {
  if (i > 0 && is_word_char(s[i - 1])) return {};
  std::string w;
  while (i < s.size() && is_word_char(s[i])) w += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i++])));
  return w;
}

// True when the statement so far holds code, not only comments and blanks.
bool has_code(std::string_view stmt) {
  std::size_t i = 0;
  while (i < stmt.size()) {
    char c = stmt[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < stmt.size() && stmt[i + 1] == '-') {
      while (i < stmt.size() && stmt[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < stmt.size() && stmt[i + 1] == '*') {
      auto end = stmt.find("*/", i + 2);
      i = end == std::string_view::npos ? stmt.size() : end + 2;
    } else {
      return true;
    }
  }
  return false;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::size_t i = 0;
  bool in_trigger = false;  // CREATE TRIGGER ... BEGIN ... END: inner semicolons belong to it
  int block_depth = 0;
  auto flush = [&](std::size_t end) {
    std::string_view stmt = sql.substr(start, end - start);
    if (has_code(stmt)) out.push_back(trim(stmt));
    start = end + 1;
    in_trigger = false;
    block_depth = 0;
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) ++i;  // doubled quote
          else break;
        }
      }
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '$' && (i == 0 || !is_word_char(sql[i - 1]))) {
      // $tag$ ... $tag$ (PostgreSQL function bodies); a lone $1 placeholder is not a tag.
      std::size_t j = i + 1;
      while (j < sql.size() && is_word_char(sql[j]) && !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) ++j;
      if (j < sql.size() && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        auto end = sql.find(tag, j + 1);
        i = end == std::string_view::npos ? sql.size() : end + tag.size();
      } else {
        ++i;
      }
    } else if (c == ';') {
      if (in_trigger && block_depth > 0) {
        ++i;
        continue;
      }
      flush(i);
      ++i;
    } else if (is_word_char(c)) {
      std::string w = word_at(sql, i);
      if (w == "TRIGGER") {
        // Only a CREATE TRIGGER statement switches to block mode (DROP TRIGGER does not).
        std::string head;
        for (char h : sql.substr(start, i - start)) head += static_cast<char>(std::toupper(static_cast<unsigned char>(h)));
        if (head.find("CREATE") != std::string::npos) in_trigger = true;
      } else if (in_trigger && (w == "BEGIN" || w == "CASE")) {
        ++block_depth;
      } else if (in_trigger && w == "END" && block_depth > 0) {
        --block_depth;
      }
      i += w.empty() ? 1 : w.size();
    } else {
      ++i;
    }
  }
  if (start < sql.size()) flush(sql.size());
  return out;
}

}  // namespace corm::migrate

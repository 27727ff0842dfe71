#include "corm/sql/text.hpp"

#include <algorithm>

#include "corm/core/error.hpp"
#include "core/excerpt.hpp"

namespace corm {

// The scan happens once per text(); every dialect's SQL is produced in the same pass and shared
// by every copy of the clause, so compile() only assembles the parameter vector.
struct TextClause::Parsed {
  std::string source;
  std::vector<std::string> names;
  std::string postgresql_sql;
  std::string sqlite_sql;
  // MySQL's `?` is positional: the n-th `?` takes the n-th value, so a name used twice is bound
  // twice. mysql_order[k] is the index into `names` of the k-th `?`.
  std::string mysql_sql;
  std::vector<std::size_t> mysql_order;
};

namespace {

bool ident_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool ident_char(char c) noexcept { return ident_start(c) || (c >= '0' && c <= '9'); }
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

[[noreturn]] void unterminated(std::string_view what, std::string_view sql, std::size_t at) {
  throw UsageError("text(): unterminated " + std::string(what) + " starting at offset " + std::to_string(at) +
                   ": " + detail::quote_excerpt(sql.substr(at)));
}

// Each skip_* takes the position of the opening character and returns the position just past
// the construct, so its text is copied verbatim and a ':' inside it is never taken as a bind.
std::size_t skip_quoted(std::string_view sql, std::size_t i, char quote, bool backslash_escapes) {
  for (std::size_t j = i + 1; j < sql.size(); ++j) {
    if (backslash_escapes && sql[j] == '\\') {
      ++j;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) ++j;  // doubled quote is an escaped quote
      else return j + 1;
    }
  }
  unterminated(quote == '\'' ? "string literal" : "quoted identifier", sql, i);
}

std::size_t skip_line_comment(std::string_view sql, std::size_t i) {
  const auto nl = sql.find('\n', i);
  return nl == std::string_view::npos ? sql.size() : nl + 1;
}

// PostgreSQL block comments nest; SQLite's do not, but nested comments are unusual enough there
// that one scanner serves both.
std::size_t skip_block_comment(std::string_view sql, std::size_t i) {
  int depth = 0;
  for (std::size_t j = i; j + 1 < sql.size(); ++j) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      ++depth;
      ++j;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      ++j;
      if (--depth == 0) return j + 1;
    }
  }
  unterminated("block comment", sql, i);
}

// `$tag$ ... $tag$` or `$$ ... $$`; returns npos when the '$' does not open a dollar quote
// (a `$1` placeholder, or a '$' inside an identifier).
std::size_t skip_dollar_quote(std::string_view sql, std::size_t i) {
  if (i > 0 && (ident_char(sql[i - 1]) || sql[i - 1] == '$')) return std::string_view::npos;
  std::size_t j = i + 1;
  if (j < sql.size() && ident_start(sql[j]))
    while (j < sql.size() && ident_char(sql[j])) ++j;
  if (j >= sql.size() || sql[j] != '$') return std::string_view::npos;
  const std::string_view tag = sql.substr(i, j - i + 1);
  const auto close = sql.find(tag, j + 1);
  if (close == std::string_view::npos) unterminated("dollar-quoted string", sql, i);
  return close + tag.size();
}

// After a ';' only whitespace, comments and further ';' may follow.
void reject_second_statement(std::string_view sql, std::size_t i) {
  while (i < sql.size()) {
    if (is_space(sql[i]) || sql[i] == ';') ++i;
    else if (sql.compare(i, 2, "--") == 0) i = skip_line_comment(sql, i);
    else if (sql.compare(i, 2, "/*") == 0) i = skip_block_comment(sql, i);
    else
      throw UsageError("text() holds more than one statement (" + detail::quote_excerpt(sql.substr(i)) +
                       " follows a ';'); run statements separately, or use Connection::execute_script "
                       "for a script without parameters");
  }
}

std::string_view strip_colon(std::string_view name) {
  if (!name.empty() && name[0] == ':') name.remove_prefix(1);
  return name;
}

std::string list_names(const std::vector<std::string>& names) {
  if (names.empty()) return "it has no bind parameters";
  std::string out = "its binds are:";
  for (const auto& n : names) out += " :" + n;
  return out;
}

}  // namespace

TextClause::TextClause(std::string_view sql) {
  auto p = std::make_shared<Parsed>();
  p->source.assign(sql);
  std::string& pg = p->postgresql_sql;
  std::string& lite = p->sqlite_sql;
  std::string& my = p->mysql_sql;
  pg.reserve(sql.size() + 8);
  lite.reserve(sql.size() + 8);
  my.reserve(sql.size() + 8);

  std::size_t copied = 0;  // sql[copied, i) is pending plain text for both outputs
  auto flush = [&](std::size_t upto) {
    pg.append(sql.substr(copied, upto - copied));
    lite.append(sql.substr(copied, upto - copied));
    my.append(sql.substr(copied, upto - copied));
  };
  bool has_content = false;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '-' && sql.compare(i, 2, "--") == 0) {
      i = skip_line_comment(sql, i);
      continue;
    }
    if (c == '/' && sql.compare(i, 2, "/*") == 0) {
      i = skip_block_comment(sql, i);
      continue;
    }
    if (c == ';') {
      reject_second_statement(sql, i + 1);
      flush(i);
      copied = i = sql.size();
      continue;
    }
    has_content = true;
    if (c == '\'') {
      // E'...' (PostgreSQL escape string) is the one literal where a backslash escapes a quote.
      const bool e_string = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !ident_char(sql[i - 2]));
      i = skip_quoted(sql, i, '\'', e_string);
    } else if (c == '"') {
      i = skip_quoted(sql, i, '"', false);
    } else if (c == '`') {
      i = skip_quoted(sql, i, '`', false);  // a MySQL quoted identifier
    } else if (c == '$') {
      const auto end = skip_dollar_quote(sql, i);
      i = end == std::string_view::npos ? i + 1 : end;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      i += 2;  // the PostgreSQL cast `x::int`
    } else if (c == ':' && i + 1 < sql.size() && ident_start(sql[i + 1]) && (i == 0 || !ident_char(sql[i - 1]))) {
      std::size_t j = i + 1;
      while (j < sql.size() && ident_char(sql[j])) ++j;
      const std::string_view name = sql.substr(i + 1, j - i - 1);
      auto it = std::find(p->names.begin(), p->names.end(), name);
      const auto index = static_cast<std::size_t>(it - p->names.begin());
      if (it == p->names.end()) p->names.emplace_back(name);
      flush(i);
      append_placeholder(pg, Dialect::postgresql, index + 1);
      append_placeholder(lite, Dialect::sqlite, index + 1);
      append_placeholder(my, Dialect::mysql, p->mysql_order.size() + 1);
      p->mysql_order.push_back(index);
      copied = i = j;
    } else if (c == '\\' && i + 1 < sql.size() && sql[i + 1] == ':') {
      flush(i);  // drop the backslash, keep the colon
      copied = i + 1;
      i += 2;
    } else {
      ++i;
    }
  }
  flush(sql.size());
  if (!has_content)
    throw UsageError("text() needs a SQL statement; got " +
                     std::string(sql.empty() ? "an empty string" : "only whitespace and comments"));
  parsed_ = std::move(p);
}

TextClause TextClause::bind(std::string_view name, Value value) const& {
  TextClause copy = *this;
  return std::move(copy).bind(name, std::move(value));
}

TextClause&& TextClause::bind(std::string_view name, Value value) && {
  name = strip_colon(name);
  const auto& names = parsed_->names;
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw UsageError("text() has no bind parameter :" + std::string(name) + "; " + list_names(names));
  const auto index = static_cast<std::size_t>(it - names.begin());
  auto slot = std::find_if(bound_.begin(), bound_.end(), [&](const auto& b) { return b.first == index; });
  if (slot != bound_.end()) slot->second = std::move(value);
  else bound_.emplace_back(index, std::move(value));
  return std::move(*this);
}

Compiled TextClause::compile(Dialect d) const { return compile(d, Params{}); }

Compiled TextClause::compile(Dialect d, const Params& params) const {
  const auto& names = parsed_->names;
  Compiled out;
  // Aliasing shared_ptr: the SQL lives as long as the parse it came from, with no copy.
  const std::string* text = &parsed_->sqlite_sql;
  if (d == Dialect::postgresql) text = &parsed_->postgresql_sql;
  else if (d == Dialect::mysql) text = &parsed_->mysql_sql;
  out.sql = std::shared_ptr<const std::string>(parsed_, text);
  out.params.resize(names.size());
  std::vector<bool> given(names.size(), false);
  for (const auto& [index, value] : bound_) {
    out.params[index] = value;
    given[index] = true;
  }
  for (const auto& [raw_name, value] : params) {
    const std::string_view name = strip_colon(raw_name);
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      throw UsageError("parameter '" + std::string(name) + "' does not appear in the SQL as :" + std::string(name) +
                       "; " + list_names(names));
    const auto index = static_cast<std::size_t>(it - names.begin());
    out.params[index] = value;
    given[index] = true;
  }
  std::string missing;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (!given[i]) missing += (missing.empty() ? ":" : ", :") + names[i];
  if (!missing.empty())
    throw UsageError("no value for bind parameter " + missing +
                     "; pass it to execute() or call .bind(name, value) (use corm::Null{} for NULL)");
  if (!dialect_traits(d).numbered_placeholders) {
    std::vector<Value> positional;
    positional.reserve(parsed_->mysql_order.size());
    for (std::size_t index : parsed_->mysql_order) positional.push_back(out.params[index]);
    out.params = std::move(positional);
  }
  return out;
}

const std::vector<std::string>& TextClause::bind_names() const noexcept { return parsed_->names; }

const std::string& TextClause::source() const noexcept { return parsed_->source; }

}  // namespace corm

#pragma once
// text(): literal SQL with named binds, as SQLAlchemy's text() —
//   conn.execute(corm::text("SELECT * FROM books WHERE pages > :min"), {{"min", 100}});
// `:name` becomes $n (PostgreSQL) or ?n (SQLite). Quotes, comments, dollar-quoted bodies and the
// PostgreSQL `::` cast are understood, so a colon inside them is left alone; `\:` writes a
// literal colon. A text() holding two statements is rejected: parameters can only bind to one,
// and a second statement is the shape an injection takes.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corm/core/value.hpp"
#include "corm/sql/compiled.hpp"

namespace corm {

/// Named parameter values for text(): `{{"id", 5}, {"name", "Kim"}}`.
using Params = std::vector<std::pair<std::string, Value>>;

/// A literal SQL statement with named binds. Build with corm::text(); bind values with bind()
/// or pass them to execute().
class TextClause {
 public:
  /// Parses `sql`; throws UsageError when it holds more than one statement or is empty.
  explicit TextClause(std::string_view sql);

  /// A copy with `name` bound to `value`; throws UsageError when the SQL has no `:name`.
  /// `name` may be given with or without its colon; binding a name again replaces its value.
  /// On an rvalue the clause itself is bound and returned (keep the result by value).
  ///@{
  TextClause bind(std::string_view name, Value value) const&;
  TextClause&& bind(std::string_view name, Value value) &&;
  ///@}

  /// Compiles with the values bound so far; throws UsageError naming any bind left unbound.
  Compiled compile(Dialect d) const;
  /// Compiles with `params` (overriding bound values); throws UsageError for unknown names and
  /// for binds left without a value.
  Compiled compile(Dialect d, const Params& params) const;

  /// The bind names in order of first appearance.
  const std::vector<std::string>& bind_names() const noexcept;
  /// The SQL as written.
  const std::string& source() const noexcept;

 private:
  struct Parsed;
  std::shared_ptr<const Parsed> parsed_;
  std::vector<std::pair<std::size_t, Value>> bound_;  // bind index → value
};

/// Literal SQL with named binds. See TextClause.
inline TextClause text(std::string_view sql) { return TextClause(sql); }

}  // namespace corm

#pragma once
// Splitting a revision's SQL section into single statements. Drivers run one statement per call
// (libpq's extended protocol refuses more), and running them one by one lets a failure name the
// statement that broke.

#include <string>
#include <string_view>
#include <vector>

namespace corm::migrate {

/// Splits `sql` at top-level semicolons. Semicolons inside '...' strings, "..." identifiers,
/// `--` and `/* */` comments and PostgreSQL $tag$ bodies do not split. Statements that hold
/// nothing but comments and blanks are dropped; the rest come back trimmed, without the `;`.
/// SQLite trigger bodies (BEGIN ... END with inner semicolons) are kept whole.
std::vector<std::string> split_statements(std::string_view sql);

}  // namespace corm::migrate

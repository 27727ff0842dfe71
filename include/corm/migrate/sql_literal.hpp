#pragma once
// The one place a value becomes SQL text instead of a bound parameter: offline (`--sql`) scripts
// have no connection to bind to, so the version table's revision ids are written as literals.

#include <string>
#include <string_view>

#include "corm/core/dialect.hpp"

namespace corm::migrate {

/// `'text'` with every `'` doubled. Rejects what no literal may hold safely: a NUL byte, and on
/// PostgreSQL a backslash is harmless (standard_conforming_strings) but still refused so the
/// literal means the same under any server setting. Throws ConfigError naming the problem.
std::string sql_string_literal(Dialect d, std::string_view text);

}  // namespace corm::migrate

#pragma once
// Short, printable excerpts of user data for error messages: a cell or a URL part can be
// megabytes long or hold control bytes, and neither belongs verbatim in an exception.

#include <string>
#include <string_view>

namespace corm::detail {

/// At most 40 characters of `text`, control bytes shown as '?', cut on a UTF-8 boundary with
/// "..." when longer, wrapped in single quotes: 'abc'.
std::string quote_excerpt(std::string_view text);

}  // namespace corm::detail

#pragma once
// Text forms of Timestamp and Date shared by the decoders and the drivers, so every layer reads
// and writes exactly the same spelling: 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) and 'YYYY-MM-DD'.
// Years before 1 AD use PostgreSQL's ' BC' suffix, which both parsers accept back.

#include <optional>
#include <string>
#include <string_view>

#include "corm/core/value.hpp"

namespace corm::detail {

/// 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, always six fraction digits (so text sorts by time).
std::string format_timestamp(Timestamp t);
/// 'YYYY-MM-DD'.
std::string format_date(Date d);

/// Parses 'YYYY-MM-DD[( |T)HH:MM[:SS[.f...]]][ ][Z|±HH[[:]MM[[:]SS]]][ BC]' into UTC; a value
/// without an offset is taken as UTC. Fraction digits past the sixth are truncated. Returns
/// nullopt when the text is not a timestamp or names an impossible date or time.
std::optional<Timestamp> parse_timestamp(std::string_view text) noexcept;
/// Parses 'YYYY-MM-DD[ BC]'; nullopt when malformed or impossible (2023-02-29).
std::optional<Date> parse_date(std::string_view text) noexcept;

}  // namespace corm::detail

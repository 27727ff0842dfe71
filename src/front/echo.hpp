#pragma once
// Echo: SQLAlchemy's echo=True — one log line per statement with its duration, row count and
// whether its SQL came from the compiled cache. Parameter values are shown only when asked,
// because they may be personal data. Shared by the sync and async fronts.

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "corm/core/log.hpp"
#include "corm/core/value.hpp"
#include "corm/sql/compiled.hpp"

namespace corm::detail {

/// What echo prints about one statement.
struct EchoRecord {
  std::string_view sql;
  std::span<const Value> params;
  std::chrono::nanoseconds duration{0};
  std::int64_t rows = -1;
  bool from_cache = false;
  std::chrono::steady_clock::time_point compiled_at{};
  std::string_view error;  // corm's message for a failed statement, empty on success
};

/// Formats and writes one echo line to `sink`.
void echo_statement(const LogSink& sink, bool show_params, const EchoRecord& r);

/// Renders parameter values for echo ("(5, 'Kim', NULL)"), long values shortened.
std::string render_params(std::span<const Value> params);

}  // namespace corm::detail

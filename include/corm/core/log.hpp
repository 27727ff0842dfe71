#pragma once
// Where corm's log lines go. Engines (echo), sessions (N+1 warnings) and the migration tool all
// write through a LogSink; the default writes to stderr.

#include <functional>
#include <string_view>

namespace corm {

/// Severity of a log line.
enum class LogLevel { debug, info, warning, error };

/// Receives one formatted line (no trailing newline). Must be thread-safe when the engine is
/// used from several threads.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

/// The default sink: "[corm] <line>" on stderr, one write per line.
void stderr_sink(LogLevel level, std::string_view line);

}  // namespace corm

#pragma once
// What every statement compiles to: SQL text in one dialect plus the values to bind, in order.
// Executors (connections, sessions) accept anything that satisfies `Executable`.

#include <chrono>
#include <concepts>
#include <memory>
#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/value.hpp"

namespace corm {

/// A statement ready for a driver. The SQL text is shared, so a statement served from the
/// compilation cache costs no copy of its text.
struct Compiled {
  std::shared_ptr<const std::string> sql;  ///< Dialect SQL with numbered placeholders.
  std::vector<Value> params;               ///< Values for $1..$n / ?1..?n.
  bool from_cache = false;                 ///< True when the SQL came from the compiled cache.
  /// When this SQL was first compiled (echo prints "cached since …"); default for uncached text.
  std::chrono::steady_clock::time_point compiled_at{};
  /// A SELECT that locks nothing and calls only side-effect-free built-in functions: at READ
  /// COMMITTED it may run before its transaction's BEGIN reaches the server (see
  /// EngineOptions::defer_begin_past_reads).
  bool plain_read = false;
};

/// Anything that compiles to SQL for a dialect: text(), select(), insert(), ...
template <class S>
concept Executable = requires(const S& s, Dialect d) {
  { s.compile(d) } -> std::convertible_to<Compiled>;
};

}  // namespace corm

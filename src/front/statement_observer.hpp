#pragma once
// Reports one statement to the engine's listeners and echo: before_execute when constructed,
// after_execute (and the echo line) when it succeeded or failed. Both fronts use it, so events
// and logs look the same whichever front sent the statement.

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "corm/core/result_set.hpp"
#include "corm/front/engine_options.hpp"
#include "corm/core/events.hpp"

namespace corm::detail {

class StatementObserver {
 public:
  StatementObserver(const Events& events, const EngineOptions& options, std::uint64_t connection_id,
                    std::string_view sql, std::span<const Value> params, bool from_cache,
                    std::chrono::steady_clock::time_point compiled_at);
  /// The statement finished; `rs` may be null for scripts and control statements.
  void succeeded(const ResultSet* rs);
  /// The statement failed with `e`.
  void failed(const Error& e);

 private:
  // Someone looks at the event: a listener or echo. Otherwise nothing is timed or reported.
  bool timed() const noexcept { return observed_ || options_.echo; }

  const Events& events_;
  const EngineOptions& options_;
  StatementEvent ev_;
  bool observed_;
  std::chrono::steady_clock::time_point compiled_at_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace corm::detail

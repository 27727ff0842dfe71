#include "front/statement_observer.hpp"

#include "corm/core/error.hpp"
#include "front/echo.hpp"

namespace corm::detail {

StatementObserver::StatementObserver(const Events& events, const EngineOptions& options,
                                     std::uint64_t connection_id, std::string_view sql,
                                     std::span<const Value> params, bool from_cache,
                                     std::chrono::steady_clock::time_point compiled_at)
    : events_(events), options_(options), observed_(events.has_statement_listeners()), compiled_at_(compiled_at) {
  ev_.sql = sql;
  ev_.parameters = params;
  ev_.from_cache = from_cache;
  ev_.connection_id = connection_id;
  if (observed_) events_.emit_before_execute(ev_);
  if (timed()) t0_ = std::chrono::steady_clock::now();  // the clock is a dear call in a VM
}

void StatementObserver::succeeded(const ResultSet* rs) {
  if (!timed()) return;
  ev_.duration = std::chrono::steady_clock::now() - t0_;
  ev_.rows = !rs ? -1 : rs->column_count() > 0 ? static_cast<std::int64_t>(rs->size()) : rs->affected_rows();
  if (observed_) events_.emit_after_execute(ev_);
  if (options_.echo)
    echo_statement(options_.log, options_.echo_parameters,
                   {ev_.sql, ev_.parameters, ev_.duration, ev_.rows, ev_.from_cache, compiled_at_, {}});
}

void StatementObserver::failed(const Error& e) {
  if (!timed()) return;
  ev_.duration = std::chrono::steady_clock::now() - t0_;
  ev_.error = &e;
  if (observed_) events_.emit_after_execute(ev_);
  if (options_.echo)
    echo_statement(options_.log, options_.echo_parameters,
                   {ev_.sql, ev_.parameters, ev_.duration, -1, ev_.from_cache, compiled_at_, e.what()});
}

}  // namespace corm::detail

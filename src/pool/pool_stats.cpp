#include "corm/pool/pool_stats.hpp"

#include <fmt/format.h>

#include "corm/core/error.hpp"

namespace corm {

std::string_view close_reason_name(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::invalidated: return "invalidated";
    case CloseReason::broken: return "broken";
    case CloseReason::recycled: return "recycled";
    case CloseReason::pre_ping_failed: return "pre_ping_failed";
    case CloseReason::reset_failed: return "reset_failed";
    case CloseReason::overflow: return "overflow";
    case CloseReason::disposed: return "disposed";
  }
  return "unknown";
}

namespace {

bool valid_metric_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void metric(std::string& out, std::string_view prefix, std::string_view name, std::string_view type,
            std::string_view help, double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0}_{1} {2}\n# TYPE {0}_{1} {3}\n{0}_{1} {4}\n", prefix, name, help,
                 type, value);
}

}  // namespace

std::string to_prometheus(const PoolStats& s, std::string_view prefix) {
  if (!valid_metric_name(prefix))
    throw ConfigError(fmt::format("to_prometheus(): \"{}\" is not a valid Prometheus metric name prefix; use letters, "
                                  "digits, '_' and ':' only, not starting with a digit (e.g. \"corm_pool\")",
                                  prefix));
  std::string out;
  out.reserve(2048);
  const auto d = [](auto v) { return static_cast<double>(v); };
  metric(out, prefix, "checked_out", "gauge", "Connections held by users.", d(s.checked_out));
  metric(out, prefix, "idle", "gauge", "Open connections waiting in the pool.", d(s.idle));
  metric(out, prefix, "waiting", "gauge", "Checkouts waiting for a connection.", d(s.waiting));
  metric(out, prefix, "open", "gauge", "Connections open or being opened.", d(s.open));
  metric(out, prefix, "size", "gauge", "Configured pool_size.", d(s.pool_size));
  metric(out, prefix, "max_overflow", "gauge", "Configured max_overflow.", d(s.max_overflow));
  metric(out, prefix, "checkouts_total", "counter", "Checkouts that got a connection.", d(s.checkouts));
  metric(out, prefix, "timeouts_total", "counter", "Waits that ended in PoolTimeout.", d(s.timeouts));
  metric(out, prefix, "connections_opened_total", "counter", "Physical connections opened.", d(s.opened));
  metric(out, prefix, "connect_failures_total", "counter", "Attempts to open a connection that failed.",
         d(s.connect_failed));
  metric(out, prefix, "leaks_reported_total", "counter", "Checkouts held longer than pool_leak_threshold.",
         d(s.leaks_reported));
  auto it = std::back_inserter(out);
  fmt::format_to(it, "# HELP {0}_connections_closed_total Connections closed, by reason.\n"
                     "# TYPE {0}_connections_closed_total counter\n", prefix);
  for (std::size_t i = 0; i < close_reason_count; ++i)
    fmt::format_to(it, "{}_connections_closed_total{{reason=\"{}\"}} {}\n", prefix,
                   close_reason_name(static_cast<CloseReason>(i)), s.closed[i]);
  fmt::format_to(it, "# HELP {0}_wait_seconds Time checkouts waited for a connection.\n"
                     "# TYPE {0}_wait_seconds histogram\n", prefix);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < PoolStats::wait_bucket_bounds.size(); ++i) {
    cumulative += s.wait_buckets[i];
    fmt::format_to(it, "{}_wait_seconds_bucket{{le=\"{}\"}} {}\n", prefix, PoolStats::wait_bucket_bounds[i], cumulative);
  }
  cumulative += s.wait_buckets.back();
  fmt::format_to(it, "{0}_wait_seconds_bucket{{le=\"+Inf\"}} {1}\n{0}_wait_seconds_sum {2}\n{0}_wait_seconds_count {3}\n",
                 prefix, cumulative, s.wait_seconds_sum, s.waits);
  return out;
}

}  // namespace corm

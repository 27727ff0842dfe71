#include "front/echo.hpp"

#include <fmt/format.h>

#include "driver/postgres/pg_params.hpp"

namespace corm::detail {

std::string render_params(std::span<const Value> params) {
  std::string out = "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out += ", ";
    const Value& v = params[i];
    if (v.is_null()) {
      out += "NULL";
      continue;
    }
    std::string text;
    driver::postgres::append_text(text, v);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    const bool quoted = std::holds_alternative<std::string>(v.storage()) ||
                        std::holds_alternative<Json>(v.storage());
    out += quoted ? "'" + text + "'" : text;
  }
  out += ")";
  return out;
}

void echo_statement(const LogSink& sink, bool show_params, const EchoRecord& r) {
  if (!sink) return;
  std::string cache;
  if (r.from_cache) {
    auto age = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.compiled_at).count();
    cache = fmt::format("cached since {:.4g}s ago", age);
  } else if (r.compiled_at != std::chrono::steady_clock::time_point{}) {
    cache = "generated";
  } else {
    cache = "raw sql";
  }
  const double ms = std::chrono::duration<double, std::milli>(r.duration).count();
  std::string params = r.params.empty() ? std::string("()")
                       : show_params    ? render_params(r.params)
                                        : fmt::format("[{} parameters hidden; echo_parameters shows them]",
                                                      r.params.size());
  if (!r.error.empty()) {
    sink(LogLevel::error, fmt::format("{} [{}] {} failed after {:.3f} ms: {}", r.sql, cache, params, ms, r.error));
  } else if (r.rows >= 0) {
    sink(LogLevel::info, fmt::format("{} [{}] {} {:.3f} ms, {} rows", r.sql, cache, params, ms, r.rows));
  } else {
    sink(LogLevel::info, fmt::format("{} [{}] {} {:.3f} ms", r.sql, cache, params, ms));
  }
}

}  // namespace corm::detail

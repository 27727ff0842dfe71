#include "front/echo.hpp"

#include <fmt/format.h>

#include "core/temporal.hpp"

namespace corm::detail {

namespace {

std::string render_value(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) return "NULL";
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) return fmt::format("{}", x);
        else if constexpr (std::is_same_v<T, std::string>) return fmt::format("'{}'", x);
        else if constexpr (std::is_same_v<T, Bytes>) return fmt::format("<{} bytes>", x.size());
        else if constexpr (std::is_same_v<T, Timestamp>) return fmt::format("'{}'", format_timestamp(x));
        else if constexpr (std::is_same_v<T, Date>) return fmt::format("'{}'", format_date(x));
        else if constexpr (std::is_same_v<T, Decimal>) return x.str();
        else if constexpr (std::is_same_v<T, Uuid>) return fmt::format("'{}'", x.str());
        else if constexpr (std::is_same_v<T, Json>) return fmt::format("'{}'", x.text);
        else {
          std::string out = "[";
          for (std::size_t i = 0; i < x.items.size(); ++i) out += (i ? ", " : "") + render_value(x.items[i]);
          return out + "]";
        }
      },
      v.storage());
}

}  // namespace

std::string render_params(std::span<const Value> params) {
  std::string out = "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out += ", ";
    std::string text = render_value(params[i]);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    out += text;
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

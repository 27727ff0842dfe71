#include "driver/mysql/mysql_params.hpp"

#include <cmath>
#include <cstring>
#include <variant>

#include "core/temporal.hpp"
#include "corm/core/error.hpp"

namespace corm::driver::mysql {

void ParamBinds::check_count(std::size_t n) {
  if (n > max_params)
    throw DataError("a statement can bind at most " + std::to_string(max_params) + " values on MySQL, and this one binds " +
                    std::to_string(n) +
                    "; split it into several statements in the same transaction (e.g. insert the rows in chunks: "
                    "Session's flush does this by itself)");
}

ParamBinds::ParamBinds(std::span<const Value> params) : binds_(params.size()), slots_(params.size()) {
  for (std::size_t n = 0; n < params.size(); ++n) {
    MYSQL_BIND& b = binds_[n];
    std::memset(&b, 0, sizeof b);
    Slot& slot = slots_[n];
    auto text = [&](const char* data, std::size_t size, enum_field_types type) {
      slot.length = static_cast<unsigned long>(size);
      b.buffer_type = type;
      // An empty string still needs a non-null buffer, or it would be sent as NULL.
      b.buffer = const_cast<char*>(size == 0 ? "" : data);
      b.buffer_length = slot.length;
      b.length = &slot.length;
    };
    auto own_text = [&](std::string s, enum_field_types type) {
      slot.text = std::move(s);
      text(slot.text.data(), slot.text.size(), type);
    };
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Null>) {
            b.buffer_type = MYSQL_TYPE_NULL;
          } else if constexpr (std::is_same_v<T, bool>) {
            slot.b = v ? 1 : 0;
            b.buffer_type = MYSQL_TYPE_TINY;
            b.buffer = &slot.b;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            slot.i = v;
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &slot.i;
          } else if constexpr (std::is_same_v<T, double>) {
            if (std::isnan(v) || std::isinf(v))
              throw DataError("parameter " + std::to_string(n + 1) +
                              " is NaN or infinite, which MySQL cannot store; bind corm::Null{} if NULL is meant");
            slot.d = v;
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &slot.d;
          } else if constexpr (std::is_same_v<T, std::string>) {
            text(v.data(), v.size(), MYSQL_TYPE_STRING);
          } else if constexpr (std::is_same_v<T, Bytes>) {
            text(reinterpret_cast<const char*>(v.data()), v.size(), MYSQL_TYPE_BLOB);
          } else if constexpr (std::is_same_v<T, Timestamp>) {
            own_text(corm::detail::format_timestamp(v), MYSQL_TYPE_STRING);
          } else if constexpr (std::is_same_v<T, Date>) {
            own_text(corm::detail::format_date(v), MYSQL_TYPE_STRING);
          } else if constexpr (std::is_same_v<T, Decimal>) {
            // Typed as DECIMAL so comparisons with DECIMAL columns stay exact (a string would be
            // compared as a double).
            own_text(v.str(), MYSQL_TYPE_NEWDECIMAL);
          } else if constexpr (std::is_same_v<T, Uuid>) {
            own_text(v.str(), MYSQL_TYPE_STRING);
          } else if constexpr (std::is_same_v<T, Json>) {
            text(v.text.data(), v.text.size(), MYSQL_TYPE_STRING);
          } else {
            static_assert(std::is_same_v<T, Array>);
            throw UsageError("parameter " + std::to_string(n + 1) +
                             " is an array; MySQL has no array type. Compare with in_(), which binds one '?' "
                             "per item");
          }
        },
        params[n].storage());
  }
}

}  // namespace corm::driver::mysql

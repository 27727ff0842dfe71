#pragma once
// Turns corm Values into libpq's parameter arrays. One ParamBuffer lives per connection and is
// reused, so binding allocates nothing once it has grown to the connection's usual statement.

#include <libpq-fe.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "corm/core/value.hpp"

namespace corm::driver::postgres {

/// Parameter arrays for PQsendQueryParams / PQsendPrepare / PQsendQueryPrepared.
class ParamBuffer {
 public:
  /// The most parameters one statement can carry (the protocol's 16-bit count).
  static constexpr std::size_t max_params = 65'535;
  /// Encodes `params`; pointers stay valid until the next encode(). Throws DataError for values
  /// PostgreSQL cannot take (NUL bytes in text) and for more than max_params values.
  void encode(std::span<const Value> params, bool wide_ints = false);

  int count() const noexcept { return static_cast<int>(values_.size()); }
  const Oid* types() const noexcept { return types_.data(); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }

 private:
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::size_t> offsets_;  // into arena_, or npos for borrowed / NULL
  std::string arena_;
};

/// Appends `v` in PostgreSQL text form (arrays as `{…}` literals). Returns the type OID to send
/// (0 lets the server infer it from context).
Oid append_text(std::string& out, const Value& v, bool wide_ints = false);

}  // namespace corm::driver::postgres

#pragma once
// corm Values → MYSQL_BIND array for mysql_stmt_bind_param. The binds point into the caller's
// Values where they can (text, bytes, JSON) and into this object's own storage otherwise, so it
// must outlive mysql_stmt_execute.

#include <mysql.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "corm/core/value.hpp"

namespace corm::driver::mysql {

class ParamBinds {
 public:
  /// The protocol counts a prepared statement's parameters in 16 bits.
  static constexpr std::size_t max_params = 65'535;
  /// Throws DataError when `n` parameters are more than a statement can take.
  static void check_count(std::size_t n);

  /// Throws UsageError for a value MySQL cannot take (an Array) and DataError for NaN.
  explicit ParamBinds(std::span<const Value> params);
  ParamBinds(const ParamBinds&) = delete;
  ParamBinds& operator=(const ParamBinds&) = delete;

  MYSQL_BIND* data() noexcept { return binds_.data(); }

 private:
  struct Slot {
    std::int64_t i = 0;
    double d = 0;
    signed char b = 0;
    std::string text;  // formatted timestamps, dates, decimals, uuids
    unsigned long length = 0;
  };
  std::vector<MYSQL_BIND> binds_;
  std::vector<Slot> slots_;
};

}  // namespace corm::driver::mysql

#pragma once
// W3's numeric column summed the way a corm user handles money: exactly, as integer cents.

#include <corm/core/value.hpp>

#include <cstdint>

#include "common.hpp"

namespace bench {

/// `d` in cents; fails the run when it is not a whole number of cents.
inline std::int64_t cents(const corm::Decimal& d) {
  if (auto c = d.scaled(2)) return *c;
  fail("numeric is not a whole number of cents: " + d.str());
}

}  // namespace bench

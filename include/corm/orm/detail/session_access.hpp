#pragma once
// The library's own way into a session's I/O-free core (corm/ext and the tests use it): the
// core is an implementation detail, so Session and AsyncSession do not expose it publicly.

#include "corm/orm/detail/session_core.hpp"

namespace corm::detail {

struct SessionAccess {
  // A template, so this header needs neither session header (AsyncSession brings in Asio).
  template <class S>
  static orm::SessionCore& core(S& session) noexcept {
    return *session.core_;
  }
};

}  // namespace corm::detail

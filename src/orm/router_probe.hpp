#pragma once
// What both fronts' sessions do with a router's probe (StatementRouter::commit_probe /
// reader_probe): the statement to send and how to read its answer.

#include <memory>
#include <optional>
#include <string>

#include "corm/core/result.hpp"
#include "corm/orm/statement_router.hpp"
#include "corm/sql/compiled.hpp"

namespace corm::orm::detail {

inline Compiled probe_statement(const RouterProbe& probe) {
  Compiled c;
  c.sql = std::make_shared<const std::string>(probe.sql);
  c.params = probe.params;
  // A read of server functions that locks nothing: on PostgreSQL at READ COMMITTED it may run
  // ahead of the transaction's deferred BEGIN, costing no round trip of its own.
  c.plain_read = true;
  return c;
}

inline std::optional<std::string> probe_answer(const Result& r) {
  if (r.empty()) return std::nullopt;
  return r.at(0).get<std::optional<std::string>>(0);
}

/// True when the probe that just ran fixed its transaction's snapshot before it waited
/// (PostgreSQL above READ COMMITTED takes it at the first statement): the read after it must
/// start a new transaction. MariaDB's read view starts at the first table read, after the probe.
template <class Conn>
bool probe_fixed_snapshot(const Conn& conn) {
  const IsolationLevel level = conn.isolation_level();
  return conn.dialect() == Dialect::postgresql && conn.in_transaction() &&
         (level == IsolationLevel::repeatable_read || level == IsolationLevel::serializable);
}

}  // namespace corm::orm::detail

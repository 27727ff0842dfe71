#include "corm/core/events.hpp"

#include <algorithm>

namespace corm {

Events::ListenerId Events::add(Entry e) {
  std::lock_guard lock(mu_);
  e.id = ++next_;
  auto copy = std::make_shared<List>(*list_);
  if (e.kind == Kind::before || e.kind == Kind::after) has_stmt_ = true;
  else has_conn_ = true;
  copy->push_back(std::move(e));
  list_ = std::move(copy);
  return next_;
}

Events::ListenerId Events::on_connect(ConnectionListener f) { return add({0, Kind::connect, std::move(f), {}}); }
Events::ListenerId Events::on_checkout(ConnectionListener f) { return add({0, Kind::checkout, std::move(f), {}}); }
Events::ListenerId Events::on_checkin(ConnectionListener f) { return add({0, Kind::checkin, std::move(f), {}}); }
Events::ListenerId Events::before_execute(StatementListener f) { return add({0, Kind::before, {}, std::move(f)}); }
Events::ListenerId Events::after_execute(StatementListener f) { return add({0, Kind::after, {}, std::move(f)}); }

void Events::remove(ListenerId id) {
  std::lock_guard lock(mu_);
  auto copy = std::make_shared<List>(*list_);
  std::erase_if(*copy, [&](const Entry& e) { return e.id == id; });
  has_stmt_ = std::any_of(copy->begin(), copy->end(),
                          [](const Entry& e) { return e.kind == Kind::before || e.kind == Kind::after; });
  has_conn_ = std::any_of(copy->begin(), copy->end(),
                          [](const Entry& e) { return e.kind != Kind::before && e.kind != Kind::after; });
  list_ = std::move(copy);
}

std::shared_ptr<const Events::List> Events::snapshot() const {
  std::lock_guard lock(mu_);
  return list_;
}

bool Events::has_statement_listeners() const noexcept { return has_stmt_.load(std::memory_order_relaxed); }

void Events::emit_connect(const ConnectionEvent& e) const {
  if (!has_conn_.load(std::memory_order_relaxed)) return;
  for (const auto& l : *snapshot()) if (l.kind == Kind::connect) l.conn(e);
}
void Events::emit_checkout(const ConnectionEvent& e) const {
  if (!has_conn_.load(std::memory_order_relaxed)) return;
  for (const auto& l : *snapshot()) if (l.kind == Kind::checkout) l.conn(e);
}
void Events::emit_checkin(const ConnectionEvent& e) const {
  if (!has_conn_.load(std::memory_order_relaxed)) return;
  for (const auto& l : *snapshot()) if (l.kind == Kind::checkin) l.conn(e);
}
void Events::emit_before_execute(const StatementEvent& e) const {
  if (!has_statement_listeners()) return;
  for (const auto& l : *snapshot()) if (l.kind == Kind::before) l.stmt(e);
}
void Events::emit_after_execute(const StatementEvent& e) const {
  if (!has_statement_listeners()) return;
  for (const auto& l : *snapshot()) if (l.kind == Kind::after) l.stmt(e);
}

}  // namespace corm

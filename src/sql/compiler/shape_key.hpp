#pragma once
// ShapeWalker: the compiled-cache hit path. One walk over a statement writes a compact binary
// key of everything that decides its SQL text (structure, identifiers, dialect — never values)
// and collects the bound values in the order the SqlWriter would number them. No SQL is built.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sql/compiler/dialect_rules.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm::sql::detail {

class ShapeWalker {
 public:
  explicit ShapeWalker(Dialect d) : dialect_(d), rules_(rules_for(d)) { u8(static_cast<std::uint8_t>(d)); }

  std::string key;
  std::vector<Value> params;
  /// False once the walk met a locking clause or a function not known to be side-effect free.
  bool side_effect_free = true;

  void u8(std::uint8_t b) { key.push_back(static_cast<char>(b)); }
  void node(const NodePtr& n);
  void select(const SelectCore& s);
  void insert(const InsertCore& s);
  void update(const UpdateCore& s);
  void delete_(const DeleteCore& s);

 private:
  void ptr(const void* p) {
    char buf[sizeof p];
    std::memcpy(buf, &p, sizeof p);
    key.append(buf, sizeof p);
  }
  void size(std::size_t n) {
    char buf[sizeof n];
    std::memcpy(buf, &n, sizeof n);
    key.append(buf, sizeof n);
  }
  void str(const std::string& s) {
    size(s.size());
    key += s;
  }
  void from_item(const FromItem& f);
  void plain_select(const SelectCore& s);
  void order_by(const std::vector<OrderTerm>& terms);
  void opt(const NodePtr& n) {
    u8(n ? 1 : 0);
    if (n) node(n);
  }
  void list(const std::vector<NodePtr>& v) {
    size(v.size());
    for (const NodePtr& n : v) node(n);
  }

  Dialect dialect_;
  const DialectRules& rules_;
  std::vector<FromItem> scope_;
};

}  // namespace corm::sql::detail

#include "corm/sql/schema/metadata.hpp"

#include <algorithm>

#include "corm/core/error.hpp"

namespace corm {

MetaData& MetaData::add(const TableInfo& t) {
  for (const TableInfo* e : tables_) {
    if (e == &t) return *this;
    if (e->name == t.name)
      throw ConfigError("two models are mapped to table '" + t.name + "'; a MetaData holds each table once");
  }
  tables_.push_back(&t);
  return *this;
}

const TableInfo* MetaData::find(std::string_view name) const noexcept {
  for (const TableInfo* t : tables_)
    if (t->name == name) return t;
  return nullptr;
}

std::vector<const TableInfo*> MetaData::sorted_tables() const {
  // Kahn's algorithm, always taking the earliest-registered ready table, so the order is
  // deterministic and follows registration wherever the foreign keys allow.
  const std::size_t n = tables_.size();
  std::vector<std::vector<std::size_t>> deps(n);
  for (std::size_t i = 0; i < n; ++i)
    for (const ForeignKeySchema& fk : tables_[i]->foreign_keys)
      for (std::size_t j = 0; j < n; ++j)
        if (j != i && tables_[j]->name == fk.referred_table &&
            std::find(deps[i].begin(), deps[i].end(), j) == deps[i].end())
          deps[i].push_back(j);
  std::vector<bool> done(n, false);
  std::vector<const TableInfo*> out;
  while (out.size() < n) {
    bool progressed = false;
    for (std::size_t i = 0; i < n && !progressed; ++i) {
      if (done[i]) continue;
      if (std::all_of(deps[i].begin(), deps[i].end(), [&](std::size_t j) { return done[j]; })) {
        done[i] = true;
        out.push_back(tables_[i]);
        progressed = true;
      }
    }
    if (!progressed) {
      std::string cycle;
      for (std::size_t i = 0; i < n; ++i)
        if (!done[i]) cycle += (cycle.empty() ? "" : ", ") + tables_[i]->name;
      throw ConfigError("the foreign keys of these tables form a cycle, so no creation order exists: " + cycle +
                        ". Break the cycle (make one key nullable and add it after both tables exist, "
                        "e.g. with a migration) or create the tables yourself");
    }
  }
  return out;
}

std::vector<std::string> MetaData::create_all_sql(Dialect d, DdlOptions o) const {
  std::vector<std::string> out;
  for (const TableInfo* t : sorted_tables()) {
    auto s = create_table_sql(d, *t, o);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::vector<std::string> MetaData::drop_all_sql(Dialect d, DdlOptions o) const {
  auto sorted = sorted_tables();
  std::vector<std::string> out;
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) out.push_back(drop_table_sql(d, **it, o));
  return out;
}

std::vector<TableSchema> MetaData::schema(Dialect d) const {
  std::vector<TableSchema> out;
  for (const TableInfo* t : tables_) out.push_back(t->schema(d));
  std::sort(out.begin(), out.end(), [](const TableSchema& a, const TableSchema& b) { return a.name < b.name; });
  return out;
}

}  // namespace corm

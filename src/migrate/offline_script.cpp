#include "corm/migrate/offline_script.hpp"

#include "corm/migrate/sql_script.hpp"
#include "corm/migrate/version_table.hpp"

namespace corm::migrate {

namespace {

std::string script(Dialect d, const std::vector<const Revision*>& path, bool upgrade, std::optional<std::string> from) {
  const bool sqlite = d == Dialect::sqlite;
  std::string out = "-- corm offline " + std::string(upgrade ? "upgrade" : "downgrade") + " script for " +
                    std::string(dialect_name(d)) + ": nothing was run\n";
  if (!dialect_traits(d).transactional_ddl)
    out += "-- " + std::string(dialect_name(d)) +
           " DDL is not transactional: each CREATE, ALTER or DROP commits as it runs, so BEGIN/COMMIT below bound "
           "the version stamp only, and a revision that fails midway may leave its earlier statements applied\n";
  if (sqlite) out += "PRAGMA foreign_keys = OFF;\n";
  out += create_version_table_sql(d) + ";\n";
  for (const Revision* r : path) {
    const std::optional<std::string> to = upgrade ? std::optional<std::string>(r->id) : r->down_revision;
    out += "\n-- Running " + std::string(upgrade ? "upgrade " : "downgrade ") + from.value_or("base") + " -> " +
           to.value_or("base") + (r->message.empty() ? "" : ", " + r->message) + "\n";
    out += "BEGIN;\n";
    for (const std::string& s : split_statements(upgrade ? r->upgrade : r->downgrade)) out += s + ";\n";
    for (const std::string& s : write_version_sql(d, from, to)) out += s + ";\n";
    out += "COMMIT;\n";
    from = to;
  }
  if (sqlite) out += "\nPRAGMA foreign_keys = ON;\n";
  return out;
}

}  // namespace

std::string upgrade_script(Dialect d, const RevisionChain& chain, const std::optional<std::string>& from,
                           std::string_view target) {
  return script(d, chain.upgrade_path(from, target), true, from);
}

std::string downgrade_script(Dialect d, const RevisionChain& chain, const std::optional<std::string>& from,
                             std::string_view target) {
  return script(d, chain.downgrade_path(from, target), false, from);
}

}  // namespace corm::migrate

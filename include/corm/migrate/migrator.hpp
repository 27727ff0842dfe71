#pragma once
// Migrator: runs revisions against a database, one transaction per revision. On PostgreSQL DDL
// is transactional, so a revision that fails midway leaves the schema and the version table as
// they were; SQLite gives the same guarantee (its DDL is transactional too), with foreign-key
// enforcement switched off for the revision and PRAGMA foreign_key_check run before COMMIT, as
// SQLite's documented table-rebuild procedure requires. The synchronous front is used: a
// migration is a command-line job, not a request handler.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corm/engine/engine.hpp"
#include "corm/migrate/revision_chain.hpp"
#include "corm/sql/schema/metadata.hpp"
#include "corm/sql/schema/table_schema.hpp"

namespace corm::migrate {

/// What the migrator reports around each revision it runs (for progress output).
struct MigrationStep {
  /// Where the revision is: about to run, committed, or failed (its MigrationError follows).
  enum class Phase { started, finished, failed };
  /// The step's phase.
  Phase phase = Phase::started;
  /// True when upgrading, false when downgrading.
  bool upgrade = true;
  /// The revision being run.
  const Revision* revision = nullptr;
  std::size_t statements = 0;                    ///< statements in the section being run
  std::chrono::steady_clock::duration elapsed{};  ///< set when finished or failed
};

/// Runs a RevisionChain against one database. Not thread-safe; one migrator per run.
class Migrator {
 public:
  /// `on_step`, when set, is called before and after each revision.
  Migrator(Engine engine, RevisionChain chain, std::function<void(const MigrationStep&)> on_step = {});

  /// The revisions the migrator works with.
  const RevisionChain& chain() const noexcept { return chain_; }
  /// The dialect of the engine.
  Dialect dialect() const noexcept { return engine_.dialect(); }

  /// The revision the database is at (nullopt: base — no version table or no row in it).
  std::optional<std::string> current();

  /// Applies revisions up to `target` ("head", "+N", an id or prefix), each in its own
  /// transaction. Returns the revisions applied. Throws MigrationError (that revision rolled
  /// back, earlier ones kept) or ConfigError for a bad target or a branched chain.
  std::vector<const Revision*> upgrade(std::string_view target = "head");
  /// Reverts revisions down to `target` ("-N", an id or prefix, "base"), newest first.
  std::vector<const Revision*> downgrade(std::string_view target);
  /// Records `target` ("head", "base", an id or prefix) as current without running anything.
  void stamp(std::string_view target);

  /// The live schema as introspection sees it, without the version table.
  std::vector<TableSchema> live_schema();

 private:
  void run(const Revision& r, bool upgrade, const std::optional<std::string>& from, const std::optional<std::string>& to);
  Engine engine_;
  RevisionChain chain_;
  std::function<void(const MigrationStep&)> on_step_;
};

}  // namespace corm::migrate

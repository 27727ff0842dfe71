#pragma once
// The versions directory: one `<id>_<slug>.sql` file per revision. Reading it gives the
// RevisionChain; writing puts a new revision next to the others, never over one.

#include <filesystem>
#include <string>

#include "corm/migrate/revision.hpp"
#include "corm/migrate/revision_chain.hpp"

namespace corm::migrate {

/// A versions directory on disk.
class ScriptDirectory {
 public:
  /// An existing directory. ConfigError when it does not exist, saying to run `init`.
  explicit ScriptDirectory(std::filesystem::path dir);

  /// Creates `dir` (and its parents). ConfigError when it exists and holds files already, so
  /// `init` never mixes two projects' revisions.
  static ScriptDirectory create(const std::filesystem::path& dir);

  /// The directory's path.
  const std::filesystem::path& path() const noexcept { return dir_; }

  /// Parses every `*.sql` file (other files are ignored) into a validated chain.
  RevisionChain load() const;

  /// Writes `r` as `<id>_<slug of message>.sql` and returns the path. ConfigError when a file of
  /// that name exists.
  std::filesystem::path write(const Revision& r) const;

  /// A fresh random revision id: 12 lower-case hex digits, like Alembic's.
  static std::string new_revision_id();

 private:
  std::filesystem::path dir_;
};

}  // namespace corm::migrate

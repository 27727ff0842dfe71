#pragma once
// The revisions of a versions directory as a chain: each names its parent (down_revision), the
// one without a parent is the base, the one nobody names is the head. Two heads mean two people
// branched from the same parent; every command that must pick a head refuses then, naming both,
// instead of guessing an order.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corm/migrate/revision.hpp"

namespace corm::migrate {

/// The revisions of one directory, validated. Read-only after construction.
class RevisionChain {
 public:
  /// Validates `revisions`: ids unique, every down_revision present, no cycle. Throws ConfigError
  /// naming the files involved. Branches (two heads) are allowed here and reported by head().
  explicit RevisionChain(std::vector<Revision> revisions = {});

  /// Every revision, from base to head (branches after one another).
  const std::vector<Revision>& revisions() const noexcept { return revisions_; }
  /// True when the chain has no revisions.
  bool empty() const noexcept { return revisions_.empty(); }

  /// The revision with this exact id, or nullptr.
  const Revision* find(std::string_view id) const noexcept;
  /// The revision whose id is `id` or starts with it (Alembic's partial ids). ConfigError when
  /// none matches or the prefix is ambiguous (naming the candidates).
  const Revision& resolve(std::string_view id) const;

  /// Revisions no other revision names as its parent (newest first by position).
  std::vector<const Revision*> heads() const;
  /// The single head, or nullptr when there are no revisions. ConfigError naming every head
  /// when there are several.
  const Revision* head() const;
  /// True when `ancestor` is `rev` or one of its parents, grandparents, ...
  bool is_ancestor(std::string_view ancestor, std::string_view rev) const;

  /// Revisions to apply, in order, to go from `current` (nullopt = empty database) up to
  /// `target`: "head", "+N" (N steps), or a revision id / prefix. Empty when already there.
  /// ConfigError when the target is not above current, or fewer than N steps remain.
  std::vector<const Revision*> upgrade_path(const std::optional<std::string>& current, std::string_view target) const;
  /// Revisions to revert, in order (newest first), to go from `current` down to `target`:
  /// "base", "-N", or a revision id / prefix (that revision stays applied).
  std::vector<const Revision*> downgrade_path(const std::optional<std::string>& current, std::string_view target) const;

  /// The parent chain of `id` back to the base, newest first ({id, parent, grandparent, ...}).
  std::vector<const Revision*> lineage(std::string_view id) const;

 private:
  std::string describe_heads(const std::vector<const Revision*>& heads) const;
  std::vector<Revision> revisions_;
};

}  // namespace corm::migrate

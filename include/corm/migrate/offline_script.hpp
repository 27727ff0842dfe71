#pragma once
// Offline mode (`--sql`): the SQL an upgrade or downgrade would run, as one script for a DBA to
// review or run by hand. Nothing connects to a database; revision ids are written as literals.

#include <optional>
#include <string>
#include <string_view>

#include "corm/core/dialect.hpp"
#include "corm/migrate/revision_chain.hpp"

namespace corm::migrate {

/// The script going up from `from` (nullopt: an empty database) to `target` ("head", "+N", an
/// id): the version table's CREATE, then per revision BEGIN, its upgrade statements, the
/// version row update, COMMIT.
std::string upgrade_script(Dialect d, const RevisionChain& chain, const std::optional<std::string>& from,
                           std::string_view target);
/// The script going down from `from` to `target` ("-N", an id, "base").
std::string downgrade_script(Dialect d, const RevisionChain& chain, const std::optional<std::string>& from,
                             std::string_view target);

}  // namespace corm::migrate

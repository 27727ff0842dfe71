#pragma once
// The migration command line, as a library entry point. The models live in the application's
// C++ code, so the tool is a small program the application builds itself:
//
//   int main(int argc, char** argv) { return corm::migrate::main(argc, argv, metadata()); }
//
// Commands (Alembic's): init DIR · revision -m MSG [--autogenerate] · upgrade [head|+N|REV] ·
// downgrade [-N|REV|base] · current · history · heads · stamp REV · check. `--sql` prints what
// upgrade/downgrade would run and runs nothing. The database URL comes from --url, then the
// CORM_DATABASE_URL environment variable, then `url =` in the config file; the versions
// directory from --dir, else the config file `init` wrote (corm-migrate.ini, or --config).

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "corm/sql/schema/metadata.hpp"

namespace corm::migrate {

/// Exit statuses: success; a failure (or `check` found differences); a bad command line.
inline constexpr int exit_ok = 0;
/// Exit status of a failed command, or of `check` when it found differences.
inline constexpr int exit_failure = 1;
/// Exit status of a bad command line.
inline constexpr int exit_usage = 2;

/// Where the command line reads and writes; main() fills it from the process. Tests pass string
/// streams and an explicit URL so nothing depends on the environment.
struct CliEnvironment {
  std::ostream* out = nullptr;               ///< normal output (stdout)
  std::ostream* err = nullptr;               ///< errors and warnings (stderr)
  bool colour = false;                       ///< ANSI colours (main: only when stdout is a terminal)
  std::optional<std::string> database_url;   ///< the CORM_DATABASE_URL value, if set
  std::string program = "corm-migrate";      ///< name shown in usage lines
};

/// Runs one command. `args` excludes the program name. Returns an exit status (above); every
/// error is reported on `env.err` as a sentence saying what is wrong and what to do.
int run(const std::vector<std::string>& args, const MetaData& models, const CliEnvironment& env);

/// `run` on the process's arguments, stdout/stderr and environment; colour when stdout is a
/// terminal and NO_COLOR is unset.
int main(int argc, char** argv, const MetaData& models);

}  // namespace corm::migrate

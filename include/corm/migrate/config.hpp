#pragma once
// The small config file `init` writes (corm-migrate.ini by default) so later commands find the
// versions directory without flags:
//
//   # corm migrations
//   directory = migrations
//   # url = postgresql://app@127.0.0.1/app   (or CORM_DATABASE_URL, or --url)

#include <filesystem>
#include <optional>
#include <string>

namespace corm::migrate {

/// The file name `init` writes and other commands look for in the working directory.
inline constexpr const char* default_config_file = "corm-migrate.ini";
/// The environment variable holding the database URL when --url is not given.
inline constexpr const char* url_environment_variable = "CORM_DATABASE_URL";

/// What the config file holds. A relative `directory` is relative to the file's folder.
struct Config {
  /// The versions directory (`directory = ...`); read_config makes a relative one relative to the
  /// file's folder.
  std::filesystem::path directory;
  /// The database URL (`url = ...`), if the file gives one.
  std::optional<std::string> url;
};

/// Reads `file` (`key = value` lines, `#` comments). ConfigError for a missing file (saying to
/// run `init` or pass --dir), an unknown key, or no `directory`.
Config read_config(const std::filesystem::path& file);

/// Writes `c` to `file`, refusing to replace an existing file.
void write_config(const std::filesystem::path& file, const Config& c);

}  // namespace corm::migrate

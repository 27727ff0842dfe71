#include "corm/migrate/config.hpp"

#include <fstream>

#include "corm/core/error.hpp"

namespace corm::migrate {

namespace fs = std::filesystem;

namespace {
std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}
}  // namespace

Config read_config(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    throw ConfigError("no config file " + file.string() +
                      "; run `init DIR` in this folder first, or pass --dir DIR (and --url URL)");
  Config c;
  std::string line;
  int n = 0;
  bool has_dir = false;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      throw ConfigError(file.string() + ":" + std::to_string(n) + ": expected `key = value`");
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (key == "directory") {
      fs::path p(value);
      c.directory = p.is_relative() ? file.parent_path() / p : p;
      has_dir = true;
    } else if (key == "url") {
      if (!value.empty()) c.url = value;
    } else {
      throw ConfigError(file.string() + ":" + std::to_string(n) + ": unknown key '" + key +
                        "'; the keys are `directory` and `url`");
    }
  }
  if (!has_dir) throw ConfigError(file.string() + " has no `directory = ...` line");
  return c;
}

void write_config(const fs::path& file, const Config& c) {
  std::error_code ec;
  if (fs::exists(file, ec))
    throw ConfigError("config file " + file.string() + " exists already; remove it or pass --config OTHER_FILE");
  std::ofstream out(file);
  out << "# corm migrations (written by `init`)\n";
  out << "directory = " << c.directory.generic_string() << "\n";
  if (c.url) out << "url = " << *c.url << "\n";
  else out << "# url = postgresql://user@127.0.0.1/db   (or set " << url_environment_variable << ", or pass --url)\n";
  out.close();
  if (!out) throw ConfigError("cannot write config file " + file.string());
}

}  // namespace corm::migrate

#include "corm/migrate/script_directory.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "corm/core/error.hpp"

namespace corm::migrate {

namespace fs = std::filesystem;

namespace {

std::string slug(const std::string& message) {
  std::string out;
  for (char c : message) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '_') out += '_';
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "revision" : out;
}

}  // namespace

ScriptDirectory::ScriptDirectory(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec))
    throw ConfigError("the versions directory " + dir_.string() +
                      " does not exist; run `init " + dir_.string() + "` to create it, or pass --dir");
}

ScriptDirectory ScriptDirectory::create(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    throw ConfigError("cannot init " + dir.string() + ": it exists and is not empty; choose a new directory");
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError("cannot create " + dir.string() + ": " + ec.message());
  return ScriptDirectory(dir);
}

RevisionChain ScriptDirectory::load() const {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Revision> revisions;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw ConfigError("cannot read revision file " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    revisions.push_back(parse_revision(ss.str(), f.string()));
  }
  return RevisionChain(std::move(revisions));
}

fs::path ScriptDirectory::write(const Revision& r) const {
  if (!valid_revision_id(r.id)) throw ConfigError("revision id '" + r.id + "' is not valid");
  fs::path file = dir_ / (r.id + "_" + slug(r.message) + ".sql");
  std::error_code ec;
  if (fs::exists(file, ec)) throw ConfigError("revision file " + file.string() + " exists already; not overwriting it");
  std::ofstream out(file, std::ios::binary);
  out << render_revision(r);
  out.close();
  if (!out) throw ConfigError("cannot write revision file " + file.string());
  return file;
}

std::string ScriptDirectory::new_revision_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  std::string id;
  for (int i = 0; i < 12; ++i) id += hex[gen() % 16];
  return id;
}

}  // namespace corm::migrate

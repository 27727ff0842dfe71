#include "corm/migrate/revision.hpp"

#include <cctype>

#include "corm/core/error.hpp"

namespace corm::migrate {

namespace {

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string where(const std::string& path, std::size_t line) {
  return (path.empty() ? std::string("revision") : path) + ":" + std::to_string(line);
}

}  // namespace

bool valid_revision_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

Revision parse_revision(std::string_view text, const std::string& path) {
  Revision r;
  r.path = path;
  enum class Part { header, upgrade, downgrade } part = Part::header;
  bool seen_up = false, seen_down = false, has_id = false, has_parent = false;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::string line = trim(raw);
    if (line == "-- upgrade" || line == "-- downgrade") {
      const bool up = line == "-- upgrade";
      bool& seen = up ? seen_up : seen_down;
      if (seen)
        throw ConfigError(where(path, line_no) + ": the section marker '" + line +
                          "' appears twice; a revision has one upgrade and one downgrade section");
      seen = true;
      part = up ? Part::upgrade : Part::downgrade;
      continue;
    }
    if (part == Part::upgrade) {
      r.upgrade.append(raw).append("\n");
      continue;
    }
    if (part == Part::downgrade) {
      r.downgrade.append(raw).append("\n");
      continue;
    }
    if (line.empty() || line == "-- corm revision") continue;
    if (line.rfind("--", 0) != 0)
      throw ConfigError(where(path, line_no) + ": SQL before the '-- upgrade' marker; put statements under '-- upgrade' "
                        "or '-- downgrade'");
    std::string body = trim(std::string_view(line).substr(2));
    auto colon = body.find(':');
    if (colon == std::string::npos) continue;  // a free comment in the header
    std::string key = trim(std::string_view(body).substr(0, colon));
    std::string value = trim(std::string_view(body).substr(colon + 1));
    if (key == "revision") {
      if (!valid_revision_id(value))
        throw ConfigError(where(path, line_no) + ": revision id '" + value +
                          "' is not valid; use 1 to 64 characters of lower-case letters, digits and '_'");
      r.id = value;
      has_id = true;
    } else if (key == "down_revision") {
      has_parent = true;
      if (value.empty() || value == "none" || value == "None") continue;
      if (!valid_revision_id(value))
        throw ConfigError(where(path, line_no) + ": down_revision '" + value + "' is not a valid revision id");
      r.down_revision = value;
    } else if (key == "message") {
      r.message = value;
    } else if (key == "created") {
      r.created = value;
    } else if (key == "dialect") {
      if (value == "postgresql") r.dialect = Dialect::postgresql;
      else if (value == "sqlite") r.dialect = Dialect::sqlite;
      else if (value == "mysql") r.dialect = Dialect::mysql;
      else if (!value.empty())
        throw ConfigError(where(path, line_no) + ": unknown dialect '" + value + "'; write postgresql, mysql or sqlite");
    }
  }
  const std::string name = path.empty() ? std::string("a revision") : path;
  if (!has_id) throw ConfigError(name + " has no '-- revision: <id>' header line");
  if (!has_parent)
    throw ConfigError(name + " has no '-- down_revision: <id>' header line (write 'none' for the first revision)");
  if (!seen_up) throw ConfigError(name + " has no '-- upgrade' section");
  if (!seen_down) throw ConfigError(name + " has no '-- downgrade' section");
  // The blank line render_revision puts before each marker is layout, not SQL.
  auto strip = [](std::string& s) {
    s = trim(s);
    if (!s.empty()) s += "\n";
  };
  strip(r.upgrade);
  strip(r.downgrade);
  return r;
}

std::string render_revision(const Revision& r) {
  std::string message = r.message;
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::string out = "-- corm revision\n";
  out += "-- revision: " + r.id + "\n";
  out += "-- down_revision: " + r.down_revision.value_or("none") + "\n";
  out += "-- message: " + trim(message) + "\n";
  if (!r.created.empty()) out += "-- created: " + r.created + "\n";
  if (r.dialect) out += "-- dialect: " + std::string(dialect_name(*r.dialect)) + "\n";
  out += "\n-- upgrade\n" + r.upgrade;
  if (!r.upgrade.empty() && r.upgrade.back() != '\n') out += "\n";
  out += "\n-- downgrade\n" + r.downgrade;
  if (!r.downgrade.empty() && r.downgrade.back() != '\n') out += "\n";
  return out;
}

}  // namespace corm::migrate

#include "corm/core/url.hpp"

#include <tuple>
#include <utility>
#include <vector>

#include <boost/url.hpp>

#include "corm/core/error.hpp"
#include "core/excerpt.hpp"

namespace corm {

namespace {

namespace urls = boost::urls;

constexpr std::string_view examples =
    "expected e.g. postgresql://user:password@host:5432/dbname, mysql://user:password@host:3306/dbname or "
    "sqlite:///relative/file.db";

// RFC 3986 character classes for each part, used both to diagnose a URL Boost rejected and to
// percent-encode when rendering. '%' is in none of them, so it is always encoded.
constexpr urls::grammar::lut_chars user_chars = urls::unreserved_chars + urls::sub_delim_chars;
constexpr urls::grammar::lut_chars password_chars = user_chars + ":";
constexpr urls::grammar::lut_chars host_chars = user_chars;
constexpr urls::grammar::lut_chars path_chars = urls::pchars + "/";
constexpr urls::grammar::lut_chars query_chars = urls::pchars + "/?";
// Keys and values inside the query must also escape the separators.
constexpr urls::grammar::lut_chars query_part_chars = query_chars - "&=+";

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The position of the first character of `s` that is neither in `cs` nor part of a valid
// percent-escape, or npos.
std::size_t first_invalid(std::string_view s, const urls::grammar::lut_chars& cs) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return i;
      i += 2;
    } else if (!cs(s[i])) {
      return i;
    }
  }
  return std::string_view::npos;
}

// `text` with everything that could be a password replaced by ***. The user info ends at the
// LAST '@' of the whole URL, not of the RFC authority, so a password holding an unencoded '/',
// '?' or '#' is still hidden; an '@' in the query merely hides more than needed.
std::string masked(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::string(text.substr(0, text.find(':')));
  const std::string_view rest = text.substr(sep + 3);
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const auto colon = rest.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, sep + 3)) + std::string(rest.substr(0, colon)) + ":***" +
         std::string(rest.substr(at));
}

[[noreturn]] void fail(std::string_view what, const std::string& shown) {
  throw ConfigError(std::string(what) + " in database URL '" + shown + "'");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Dialect dialect_for(std::string_view scheme) {
  const std::string s = lower(scheme);
  if (s == "postgresql" || s == "postgres" || s == "postgresql+libpq") return Dialect::postgresql;
  if (s == "sqlite" || s == "sqlite3") return Dialect::sqlite;
  const auto plus = s.find('+');
  const std::string db = s.substr(0, plus);
  // SQLAlchemy names the Python driver after '+' (mysql+aiomysql, mysql+asyncmy, mysql+pymysql):
  // corm has one MySQL driver of its own, so the part is accepted and ignored.
  if (db == "mysql" || db == "mariadb") return Dialect::mysql;
  if (plus != std::string::npos && (db == "postgresql" || db == "postgres" || db == "sqlite"))
    throw ConfigError("unsupported driver '" + s.substr(plus + 1) + "' in URL; corm has its own " +
                      "drivers: write " + db + "://" + (db == "sqlite" ? "" : " (or postgresql+libpq://)"));
  throw ConfigError("unsupported database '" + db + "' in URL; corm supports postgresql://, mysql:// (or mariadb://) "
                    "and sqlite://");
}

// Checks the parts Boost's grammar cannot name for us: the port (whose text Boost accepts as
// any digits) and, when Boost rejected the URL, which part holds the offending character.
struct Parts {
  std::string_view user, password, host, port, path, query, fragment;
  bool has_port = false, has_fragment = false;
  // An '@' after the end of the RFC authority: likely a password with an unencoded '/', '?' or
  // '#'. Port and host texts may then be pieces of the password and must not be echoed.
  bool userinfo_suspect = false;
};

Parts split(std::string_view rest) {
  Parts p;
  const auto auth_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, auth_end);
  const auto last_at = rest.rfind('@');
  p.userinfo_suspect = last_at != std::string_view::npos && last_at >= auth_end;
  const auto at = authority.rfind('@');
  std::string_view hostport = authority;
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    p.user = userinfo.substr(0, colon);
    if (colon != std::string_view::npos) p.password = userinfo.substr(colon + 1);
    hostport = authority.substr(at + 1);
  }
  std::size_t colon = std::string_view::npos;
  if (!hostport.empty() && hostport[0] == '[') {
    const auto close = hostport.find(']');
    if (close != std::string_view::npos && close + 1 < hostport.size() && hostport[close + 1] == ':')
      colon = close + 1;
  } else {
    colon = hostport.rfind(':');
  }
  p.host = hostport.substr(0, colon);
  if (colon != std::string_view::npos) {
    p.has_port = true;
    p.port = hostport.substr(colon + 1);
  }
  std::string_view tail = rest.substr(auth_end);
  const auto hash = tail.find('#');
  if (hash != std::string_view::npos) {
    p.has_fragment = true;
    p.fragment = tail.substr(hash + 1);
    tail = tail.substr(0, hash);
  }
  const auto q = tail.find('?');
  p.path = tail.substr(0, q);
  if (q != std::string_view::npos) p.query = tail.substr(q + 1);
  return p;
}

std::optional<int> check_port_text(std::string_view port, const std::string& shown) {
  if (port.empty()) fail("empty port after ':' (omit the ':' to use the default port)", shown);
  if (port.find_first_not_of("0123456789") != std::string_view::npos)
    fail("invalid port " + detail::quote_excerpt(port) + ": the port must be a number from 1 to 65535", shown);
  if (port.size() > 5 || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
    fail("port " + std::string(port.substr(0, 20)) + " is out of range: the port must be a number from 1 to 65535",
         shown);
  return std::stoi(std::string(port));
}

std::optional<int> check_port(const Parts& p, const std::string& shown) {
  if (!p.has_port) return std::nullopt;
  if (p.userinfo_suspect)
    fail("the user name or password holds a character that must be percent-encoded ('/' as %2F, "
         "'?' as %3F, '#' as %23, '@' as %40)",
         shown);
  return check_port_text(p.port, shown);
}

// Where the host (or host list) of the text after "://" starts and ends.
std::pair<std::size_t, std::size_t> host_span(std::string_view rest) {
  const auto auth_end = std::min(rest.find_first_of("/?#"), rest.size());
  const auto at = rest.substr(0, auth_end).rfind('@');
  return {at == std::string_view::npos ? 0 : at + 1, auth_end};
}

// `host:port` or `[v6]:port` → (host text, port text, has port).
std::tuple<std::string_view, std::string_view, bool> split_host_port(std::string_view hostport) {
  std::size_t colon = std::string_view::npos;
  if (!hostport.empty() && hostport[0] == '[') {
    const auto close = hostport.find(']');
    if (close != std::string_view::npos && close + 1 < hostport.size() && hostport[close + 1] == ':')
      colon = close + 1;
  } else {
    colon = hostport.rfind(':');
  }
  if (colon == std::string_view::npos) return {hostport, {}, false};
  return {hostport.substr(0, colon), hostport.substr(colon + 1), true};
}

// Host `n` (1-based, n >= 2) of a host list, checked as strictly as the first one.
Url::HostPort parse_listed_host(std::string_view piece, std::size_t n, const std::string& shown) {
  const std::string which = "host " + std::to_string(n) + " of the host list";
  const auto [host, port, has_port] = split_host_port(piece);
  if (host.empty()) fail("empty " + which + " (write host:port, or host alone for the default port)", shown);
  Url::HostPort out;
  if (has_port) out.port = check_port_text(port, shown);
  if (host[0] != '[') {
    const auto bad = first_invalid(host, host_chars);
    if (bad != std::string_view::npos) {
      const bool pct = host[bad] == '%';
      fail(std::string(pct ? "invalid percent-escape " : "invalid character ") +
               detail::quote_excerpt(host.substr(bad, pct ? 3 : 1)) + " in " + which,
           shown);
    }
  }
  auto parsed = urls::parse_authority(urls::string_view(host.data(), host.size()));
  if (!parsed || parsed->has_userinfo() || parsed->has_port())
    fail(host[0] == '[' ? "invalid IPv6 address in " + which : "malformed " + which, shown);
  out.host = parsed->host_address();
  return out;
}

// Finds the part holding a character RFC 3986 does not allow there, naming the character except
// in a password. Run before Boost, which is lenient in places: it reads "u:pa@ss@host" as host
// "ss", a piece of the password that a later message could echo.
void check_parts(const Parts& p, const std::string& shown) {
  if (p.userinfo_suspect || first_invalid(p.password, password_chars) != std::string_view::npos)
    fail("the password holds a character that must be percent-encoded ('/' as %2F, '?' as %3F, "
         "'#' as %23, '@' as %40, '%' as %25)",
         shown);
  auto check = [&](std::string_view part, const urls::grammar::lut_chars& cs, std::string_view name) {
    const auto bad = first_invalid(part, cs);
    if (bad == std::string_view::npos) return;
    const bool pct = part[bad] == '%';
    fail(std::string(pct ? "invalid percent-escape " : "invalid character ") +
             detail::quote_excerpt(part.substr(bad, pct ? 3 : 1)) + " in the " + std::string(name) +
             " (percent-encode it, e.g. ' ' as %20)",
         shown);
  };
  check(p.user, user_chars, "user name");
  // A bracketed IPv6 host is checked by Boost's grammar below.
  if (p.host.empty() || p.host[0] != '[') check(p.host, host_chars, "host");
  check(p.path, path_chars, "path");
  check(p.query, query_chars, "query");
}

}  // namespace

Url Url::parse(std::string_view text) {
  if (text.empty()) throw ConfigError("empty database URL; " + std::string(examples));
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw ConfigError("database URL has no scheme (such as postgresql:// or sqlite://); " + std::string(examples));
  const std::string_view scheme = text.substr(0, colon);
  const bool scheme_ok = ((scheme[0] >= 'a' && scheme[0] <= 'z') || (scheme[0] >= 'A' && scheme[0] <= 'Z')) &&
                         scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") ==
                             std::string_view::npos;
  if (!scheme_ok)
    throw ConfigError("invalid scheme " + detail::quote_excerpt(scheme) +
                      " in database URL: a scheme is a letter followed by letters, digits, '+', '-' or '.'; " +
                      std::string(examples));
  // Nothing after the scheme is echoed here: without "://" we cannot tell where a password is.
  if (text.substr(colon, 3) != "://")
    throw ConfigError("database URL starting '" + std::string(scheme) + ":' has no '//' after the scheme; " +
                      std::string(examples));

  Url u;
  u.dialect_ = dialect_for(scheme);
  u.scheme_ = std::string(scheme);
  const std::string shown = masked(text);

  // A host list (h1:p1,h2:p2): the hosts after the first are checked here; the URL with the
  // first host alone then goes through the single-host checks below.
  std::vector<HostPort> more_hosts;
  std::string first_only;
  if (!split(text.substr(colon + 3)).userinfo_suspect) {
    const std::string_view rest = text.substr(colon + 3);
    const auto [begin, end] = host_span(rest);
    const std::string_view list = rest.substr(begin, end - begin);
    if (list.find(',') != std::string_view::npos) {
      if (u.dialect_ == Dialect::sqlite)
        fail("a SQLite URL has no host list: write sqlite:///relative.db, sqlite:////absolute/path.db "
             "or sqlite:// for an in-memory database",
             shown);
      std::vector<std::string_view> pieces;
      for (std::size_t from = 0;;) {
        const auto comma = list.find(',', from);
        pieces.push_back(list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
        if (comma == std::string_view::npos) break;
        from = comma + 1;
      }
      if (std::get<0>(split_host_port(pieces[0])).empty())
        fail("empty host 1 of the host list (write host:port, or host alone for the default port)", shown);
      for (std::size_t i = 1; i < pieces.size(); ++i) more_hosts.push_back(parse_listed_host(pieces[i], i + 1, shown));
      first_only = std::string(text.substr(0, colon + 3 + begin)) + std::string(pieces[0]) +
                   std::string(rest.substr(end));
      text = first_only;
    }
  }

  const Parts parts = split(text.substr(colon + 3));
  u.port_ = check_port(parts, shown);
  if (parts.has_fragment)
    fail("a fragment ('#...') has no meaning (if '#' is part of the password, write it as %23)", shown);

  check_parts(parts, shown);
  auto parsed = urls::parse_uri(urls::string_view(text.data(), text.size()));
  if (!parsed) {
    if (!parts.host.empty() && parts.host[0] == '[') fail("invalid IPv6 address in the host", shown);
    fail("malformed URL (" + parsed.error().message() + ")", shown);
  }
  const urls::url_view& v = *parsed;

  u.username_ = v.user();
  u.has_password_ = v.has_password();
  u.password_ = v.password();
  u.host_ = v.host_address();
  if (!u.host_.empty() || u.port_) u.hosts_.push_back(HostPort{u.host_, u.port_});
  u.hosts_.insert(u.hosts_.end(), more_hosts.begin(), more_hosts.end());
  std::string path = v.path();
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  u.database_ = std::move(path);
  for (auto param : v.params()) {
    std::string key = param.key;
    if (u.query_.count(key))
      fail("query option " + detail::quote_excerpt(key) + " is given twice", shown);
    u.query_.emplace(std::move(key), param.has_value ? std::string(param.value) : std::string());
  }

  if (u.dialect_ == Dialect::sqlite && (v.has_userinfo() || !u.host_.empty() || u.port_))
    fail("a SQLite URL has no user, host or port: write sqlite:///relative.db, sqlite:////absolute/path.db "
         "or sqlite:// for an in-memory database",
         shown);
  return u;
}

bool Url::is_memory() const noexcept {
  return dialect_ == Dialect::sqlite && (database_.empty() || database_ == ":memory:");
}

std::string Url::render(bool hide_password) const {
  std::string out = scheme_ + "://";
  if (!username_.empty() || has_password_) {
    out += urls::encode(username_, user_chars);
    if (has_password_) out += ':' + (hide_password ? std::string("***") : urls::encode(password_, password_chars));
    out += '@';
  }
  if (hosts_.empty()) {
    if (host_.find(':') != std::string::npos) out += '[' + host_ + ']';
    else out += urls::encode(host_, host_chars);
    if (port_) out += ':' + std::to_string(*port_);
  }
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    const HostPort& h = hosts_[i];
    if (i > 0) out += ',';
    if (h.host.find(':') != std::string::npos) out += '[' + h.host + ']';
    else out += urls::encode(h.host, host_chars - ",");
    if (h.port) out += ':' + std::to_string(*h.port);
  }
  // SQLite: "sqlite://" + "/" + path, so an absolute path gets the fourth slash back.
  if (!database_.empty()) out += '/' + urls::encode(database_, path_chars);
  char sep = '?';
  for (const auto& [key, value] : query_) {
    out += sep;
    out += urls::encode(key, query_part_chars);
    out += '=';
    out += urls::encode(value, query_part_chars);
    sep = '&';
  }
  return out;
}

std::string Url::str() const { return render(true); }

std::string Url::str_with_password() const { return render(false); }

Url Url::with_database(std::string db) const {
  Url copy = *this;
  copy.database_ = std::move(db);
  return copy;
}

Url Url::with_query(std::string key, std::string value) const {
  Url copy = *this;
  copy.query_[std::move(key)] = std::move(value);
  return copy;
}

}  // namespace corm

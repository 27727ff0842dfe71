#pragma once
// Database URLs as SQLAlchemy users write them:
//   postgresql://user:pass@host:5432/db?application_name=svc&connect_timeout=5
//   mysql://user:pass@host:3306/db?charset=utf8mb4   mariadb://…   mysql+aiomysql://… (driver ignored)
//   postgresql://user@h1:5432,h2:5433,[::1]:5434/db?target_session_attrs=read-write  (a host list;
//   PostgreSQL and MySQL only: see docs/failover.md)
//   sqlite:///relative/path.db   sqlite:////absolute/path.db   sqlite://  (in-memory)
// The password is kept but never rendered: str() masks it, so a URL can be logged safely.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corm/core/dialect.hpp"

namespace corm {

/// A parsed database URL. Construct with Url::parse; a malformed URL throws ConfigError saying
/// which part is wrong (and never echoing the password).
class Url {
 public:
  /// One entry of the URL's host list: a host name or address and its port, if one was given.
  struct HostPort {
    std::string host;         ///< Name or address (an IPv6 address without its brackets).
    std::optional<int> port;  ///< The port, or nullopt when this entry gives none.
    /// Same host and port.
    bool operator==(const HostPort&) const = default;
  };

  /// Parses `text`. Accepted schemes: postgresql, postgres, postgresql+libpq, mysql, mariadb (with
  /// any `+driver`, such as mysql+aiomysql, which is ignored), sqlite, sqlite3.
  static Url parse(std::string_view text);

  /// The dialect the scheme names (postgresql, mysql for mysql and mariadb, sqlite).
  Dialect dialect() const noexcept { return dialect_; }
  /// The scheme as written ("postgresql").
  const std::string& scheme() const noexcept { return scheme_; }
  /// The user name, decoded; empty when the URL has none.
  const std::string& username() const noexcept { return username_; }
  /// The password, decoded. Never printed by corm.
  const std::string& password() const noexcept { return password_; }
  /// True when the URL has a password (`user:@host` counts: an empty password).
  bool has_password() const noexcept { return has_password_; }
  /// The first host (of a host list): a name or address (an IPv6 address without its
  /// brackets); empty when the URL names none.
  const std::string& host() const noexcept { return host_; }
  /// The first host's port, or nullopt when the URL gives none.
  std::optional<int> port() const noexcept { return port_; }
  /// Every host of `h1:p1,h2:p2,...`, in the order written (one entry for a single host; empty
  /// when the URL names neither host nor port).
  const std::vector<HostPort>& hosts() const noexcept { return hosts_; }
  /// Database name (PostgreSQL, MySQL) or file path (SQLite; empty for memory).
  const std::string& database() const noexcept { return database_; }
  /// Query options (`?key=value`), decoded, in key order.
  const std::map<std::string, std::string>& query() const noexcept { return query_; }

  /// True for `sqlite://` and `sqlite:///:memory:`.
  bool is_memory() const noexcept;

  /// The URL with the password replaced by `***` — safe for logs and messages.
  std::string str() const;
  /// The URL with the password in clear; only for handing to another tool.
  std::string str_with_password() const;

  /// A copy with a different database name / path.
  Url with_database(std::string db) const;
  /// A copy with one query option set.
  Url with_query(std::string key, std::string value) const;

 private:
  std::string render(bool hide_password) const;

  Dialect dialect_ = Dialect::sqlite;
  std::string scheme_;
  std::string username_;
  std::string password_;
  bool has_password_ = false;
  std::string host_;
  std::optional<int> port_;
  std::vector<HostPort> hosts_;
  std::string database_;
  std::map<std::string, std::string> query_;
};

}  // namespace corm

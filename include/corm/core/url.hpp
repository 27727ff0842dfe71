#pragma once
// Database URLs as SQLAlchemy users write them:
//   postgresql://user:pass@host:5432/db?application_name=svc&connect_timeout=5
//   mysql://user:pass@host:3306/db?charset=utf8mb4   mariadb://…   mysql+aiomysql://… (driver ignored)
//   sqlite:///relative/path.db   sqlite:////absolute/path.db   sqlite://  (in-memory)
// The password is kept but never rendered: str() masks it, so a URL can be logged safely.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "corm/core/dialect.hpp"

namespace corm {

/// A parsed database URL. Construct with Url::parse; a malformed URL throws ConfigError saying
/// which part is wrong (and never echoing the password).
class Url {
 public:
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
  /// The host name or address (an IPv6 address without its brackets); empty when the URL has none.
  const std::string& host() const noexcept { return host_; }
  /// The port, or nullopt when the URL gives none.
  std::optional<int> port() const noexcept { return port_; }
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
  std::string database_;
  std::map<std::string, std::string> query_;
};

}  // namespace corm

#pragma once
// ReplicationPosition: where a commit sits in the primary's replication stream, and how far a
// replica has replayed — a PostgreSQL WAL LSN, or a set of MariaDB GTIDs (one per replication
// domain). Read-your-writes (corm/ext/read_your_writes.hpp) compares the two; a causal token is
// the same position written as an opaque, URL- and HTTP-header-safe string.
//
//   PostgreSQL: "pg.3018CE0"            (the LSN 0/3018CE0 as one 64-bit hex number)
//   MariaDB:    "mariadb.0-1-42.1-2-7"  (GTIDs domain-server-sequence, dot-separated)
//
// Only the characters A-Z a-z 0-9 . - appear, so a token needs no escaping in a URL query, a
// path segment, a cookie or an HTTP header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/error.hpp"

namespace corm::ext {

/// A causal token corm cannot use: malformed, too long, or written for another dialect. The
/// message says which and what a valid token looks like (a service maps it to HTTP 400).
class CausalTokenError : public UsageError {
  using UsageError::UsageError;
};

/// A position in the primary's replication stream (see the header comment). Value type.
class ReplicationPosition {
 public:
  /// One MariaDB GTID: replication domain, originating server, sequence number.
  struct Gtid {
    std::uint32_t domain = 0;    ///< Replication domain id.
    std::uint32_t server = 0;    ///< Id of the server that originated the transaction.
    std::uint64_t sequence = 0;  ///< Sequence number within the domain.
  };

  /// A PostgreSQL LSN.
  static ReplicationPosition postgresql_lsn(std::uint64_t lsn) noexcept;
  /// The position as the server prints it: "16/B374D848" (pg_lsn) or "0-1-42,1-2-7"
  /// (gtid_slave_pos / last_gtid). nullopt for an empty text (no position: a NULL LSN on a
  /// server that is not a standby, an empty GTID list). Throws UsageError on SQLite, which has
  /// no replication, and DatabaseError for text the server should never send.
  static std::optional<ReplicationPosition> from_server_text(Dialect dialect, std::string_view text);
  /// Parses a causal token for engines of `dialect`. Throws CausalTokenError when it is
  /// malformed or names another dialect. An empty token is no position: nullopt.
  static std::optional<ReplicationPosition> from_token(std::string_view token, Dialect dialect);

  /// The causal token for this position (see the header comment).
  std::string token() const;
  /// The position as the server takes it ("16/B374D848", "0-1-42,1-2-7").
  std::string server_text() const;
  /// The database this position belongs to (PostgreSQL or MySQL/MariaDB).
  Dialect dialect() const noexcept { return dialect_; }

  /// True when a replica that has replayed `replayed` has everything up to this position: a
  /// greater-or-equal LSN; for GTIDs, in every domain of this position a sequence number at
  /// least as high (the server id is not compared: sequence numbers grow per domain).
  bool reached_by(const ReplicationPosition& replayed) const noexcept;
  /// Raises this position to cover `other` too (the later LSN; per domain the higher sequence).
  void merge(const ReplicationPosition& other);

  /// Same dialect and the same position.
  friend bool operator==(const ReplicationPosition& a, const ReplicationPosition& b) noexcept;

 private:
  ReplicationPosition(Dialect d) noexcept : dialect_(d) {}  // NOLINT: private

  Dialect dialect_;
  std::uint64_t lsn_ = 0;      // PostgreSQL
  std::vector<Gtid> gtids_;    // MariaDB, sorted by domain, one per domain
};

}  // namespace corm::ext

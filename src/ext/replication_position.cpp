#include "corm/ext/replication_position.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace corm::ext {

namespace {

// A token is client input: bounded, so a hostile header cannot make the parser work hard.
constexpr std::size_t max_token_length = 512;
constexpr std::string_view pg_prefix = "pg.";
constexpr std::string_view mariadb_prefix = "mariadb.";

template <class T>
bool parse_number(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_gtid(std::string_view s, ReplicationPosition::Gtid& g) {
  const auto a = s.find('-');
  if (a == std::string_view::npos) return false;
  const auto b = s.find('-', a + 1);
  if (b == std::string_view::npos) return false;
  return parse_number(s.substr(0, a), g.domain) && parse_number(s.substr(a + 1, b - a - 1), g.server) &&
         parse_number(s.substr(b + 1), g.sequence);
}

// GTIDs separated by `sep`; false when one does not parse or a domain repeats.
bool parse_gtids(std::string_view s, char sep, std::vector<ReplicationPosition::Gtid>& out) {
  while (!s.empty()) {
    const auto end = s.find(sep);
    std::string_view one = s.substr(0, end);
    // The server separates with ",\n" in some versions' output of multi-domain positions.
    while (!one.empty() && (one.front() == ' ' || one.front() == '\n')) one.remove_prefix(1);
    ReplicationPosition::Gtid g;
    if (!parse_gtid(one, g)) return false;
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.domain == g.domain; })) return false;
    out.push_back(g);
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
    if (s.empty()) return false;  // a trailing separator
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.domain < y.domain; });
  return true;
}

std::string_view dialect_label(Dialect d) {
  switch (d) {
    case Dialect::postgresql: return "PostgreSQL";
    case Dialect::mysql: return "MariaDB";
    case Dialect::sqlite: break;
  }
  return "SQLite";
}

[[noreturn]] void no_replication(Dialect d) {
  throw UsageError(fmt::format("{} has no replication positions: read-your-writes and causal tokens need "
                               "PostgreSQL streaming replication or MariaDB GTID replication",
                               dialect_label(d)));
}

}  // namespace

ReplicationPosition ReplicationPosition::postgresql_lsn(std::uint64_t lsn) noexcept {
  ReplicationPosition p(Dialect::postgresql);
  p.lsn_ = lsn;
  return p;
}

std::optional<ReplicationPosition> ReplicationPosition::from_server_text(Dialect dialect, std::string_view text) {
  if (dialect == Dialect::sqlite) no_replication(dialect);
  if (text.empty()) return std::nullopt;
  ReplicationPosition p(dialect);
  bool ok = false;
  if (dialect == Dialect::postgresql) {
    const auto slash = text.find('/');
    std::uint32_t hi = 0, lo = 0;
    ok = slash != std::string_view::npos && parse_number(text.substr(0, slash), hi, 16) &&
         parse_number(text.substr(slash + 1), lo, 16);
    p.lsn_ = (std::uint64_t{hi} << 32) | lo;
  } else {
    ok = parse_gtids(text, ',', p.gtids_);
  }
  if (!ok)
    throw DatabaseError(fmt::format("the {} server reported a replication position corm cannot read: '{}'",
                                    dialect_label(dialect), text));
  return p;
}

std::optional<ReplicationPosition> ReplicationPosition::from_token(std::string_view token, Dialect dialect) {
  if (dialect == Dialect::sqlite) no_replication(dialect);
  if (token.empty()) return std::nullopt;
  const std::string_view expected = dialect == Dialect::postgresql ? "'pg.<hex LSN>', e.g. 'pg.3018CE0'"
                                                                   : "'mariadb.<domain-server-sequence>[.…]', "
                                                                     "e.g. 'mariadb.0-1-42'";
  if (token.size() > max_token_length)
    throw CausalTokenError(fmt::format("causal token rejected: {} characters, longer than any token corm writes "
                                       "(at most {}); pass the token causal_token() returned, unchanged",
                                       token.size(), max_token_length));
  // Quoted back only when it is made of token characters, so a log line cannot be forged.
  const bool printable = std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
  });
  const std::string shown = printable ? fmt::format("'{}'", token) : std::string("(it has characters no token has)");
  const bool is_pg = token.starts_with(pg_prefix), is_mariadb = token.starts_with(mariadb_prefix);
  if ((is_pg && dialect != Dialect::postgresql) || (is_mariadb && dialect != Dialect::mysql))
    throw CausalTokenError(fmt::format("causal token {} was written for {}, but these engines are {}: a token only "
                                       "works with the database that issued it",
                                       shown, is_pg ? "PostgreSQL" : "MariaDB", dialect_label(dialect)));
  ReplicationPosition p(dialect);
  bool ok = false;
  if (dialect == Dialect::postgresql && is_pg) {
    ok = parse_number(token.substr(pg_prefix.size()), p.lsn_, 16);
  } else if (dialect == Dialect::mysql && is_mariadb) {
    ok = parse_gtids(token.substr(mariadb_prefix.size()), '.', p.gtids_) && !p.gtids_.empty();
  }
  if (!ok)
    throw CausalTokenError(fmt::format("causal token {} is malformed: expected {} (the string causal_token() "
                                       "returned, unchanged)",
                                       shown, expected));
  return p;
}

std::string ReplicationPosition::token() const {
  if (dialect_ == Dialect::postgresql) return fmt::format("{}{:X}", pg_prefix, lsn_);
  std::string out(mariadb_prefix);
  for (std::size_t i = 0; i < gtids_.size(); ++i)
    out += fmt::format("{}{}-{}-{}", i ? "." : "", gtids_[i].domain, gtids_[i].server, gtids_[i].sequence);
  return out;
}

std::string ReplicationPosition::server_text() const {
  if (dialect_ == Dialect::postgresql) return fmt::format("{:X}/{:X}", lsn_ >> 32, lsn_ & 0xFFFFFFFFu);
  std::string out;
  for (std::size_t i = 0; i < gtids_.size(); ++i)
    out += fmt::format("{}{}-{}-{}", i ? "," : "", gtids_[i].domain, gtids_[i].server, gtids_[i].sequence);
  return out;
}

bool ReplicationPosition::reached_by(const ReplicationPosition& replayed) const noexcept {
  if (dialect_ != replayed.dialect_) return false;
  if (dialect_ == Dialect::postgresql) return replayed.lsn_ >= lsn_;
  return std::all_of(gtids_.begin(), gtids_.end(), [&](const Gtid& need) {
    return std::any_of(replayed.gtids_.begin(), replayed.gtids_.end(),
                       [&](const Gtid& have) { return have.domain == need.domain && have.sequence >= need.sequence; });
  });
}

void ReplicationPosition::merge(const ReplicationPosition& other) {
  if (other.dialect_ != dialect_) return;
  if (dialect_ == Dialect::postgresql) {
    lsn_ = std::max(lsn_, other.lsn_);
    return;
  }
  for (const Gtid& g : other.gtids_) {
    auto it = std::find_if(gtids_.begin(), gtids_.end(), [&](const Gtid& o) { return o.domain == g.domain; });
    if (it == gtids_.end()) gtids_.push_back(g);
    else if (g.sequence > it->sequence) *it = g;
  }
  std::sort(gtids_.begin(), gtids_.end(), [](const auto& x, const auto& y) { return x.domain < y.domain; });
}

bool operator==(const ReplicationPosition& a, const ReplicationPosition& b) noexcept {
  if (a.dialect_ != b.dialect_ || a.lsn_ != b.lsn_ || a.gtids_.size() != b.gtids_.size()) return false;
  for (std::size_t i = 0; i < a.gtids_.size(); ++i)
    if (a.gtids_[i].domain != b.gtids_[i].domain || a.gtids_[i].server != b.gtids_[i].server ||
        a.gtids_[i].sequence != b.gtids_[i].sequence)
      return false;
  return true;
}

}  // namespace corm::ext

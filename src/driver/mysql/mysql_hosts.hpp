#pragma once
// Connect-time host selection for MySQL / MariaDB. Connector/C connects to one host, so a URL
// naming several (mysql://u@h1:3306,h2:3306/db) is tried host by host, in order; with
// target_session_attrs=read-write a server that reports itself read-only is skipped. The pieces
// here are free of any I/O so that a blocking and a non-blocking connect can share them: the
// candidates, the probe that tells a writable server, and the ConnectError naming every host
// tried and why.

#include <string>
#include <string_view>
#include <vector>

#include "corm/core/url.hpp"

namespace corm::driver::mysql {

/// One host to try, with its port resolved (3306 when the URL gives none).
struct HostCandidate {
  std::string host;
  unsigned port = 3306;
  /// "host:port" ("[v6]:port") for messages.
  std::string describe() const;
};

/// The hosts of `url` in the order to try them ("localhost" when the URL names none).
std::vector<HostCandidate> host_candidates(const Url& url);

/// True when the URL asks for a writable server (target_session_attrs=read-write); false for
/// `any` or no option. validate() has already refused other values.
bool wants_read_write(const Url& url);

/// Asked on a fresh connection when wants_read_write(): one row, two columns, each "1" when on.
inline constexpr std::string_view read_only_probe = "SELECT @@global.read_only, @@global.innodb_read_only";

/// Whether the probe's row says the server refuses writes.
bool probe_says_read_only(const char* read_only, const char* innodb_read_only) noexcept;

/// The hosts tried so far and why each was passed over; throws the final ConnectError.
class HostAttempts {
 public:
  void failed(const HostCandidate& host, std::string reason);
  /// ConnectError: "could not connect to a … MySQL server of <url>: h1:p1: why; h2:p2: why".
  [[noreturn]] void throw_error(const Url& url, bool read_write) const;

 private:
  std::vector<std::string> tried_;
};

}  // namespace corm::driver::mysql

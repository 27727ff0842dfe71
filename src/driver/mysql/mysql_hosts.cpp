#include "driver/mysql/mysql_hosts.hpp"

#include <cstring>

#include "corm/core/error.hpp"

namespace corm::driver::mysql {

std::string HostCandidate::describe() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::vector<HostCandidate> host_candidates(const Url& url) {
  std::vector<HostCandidate> out;
  for (const auto& h : url.hosts())
    out.push_back(HostCandidate{h.host.empty() ? "localhost" : h.host, h.port ? static_cast<unsigned>(*h.port) : 3306u});
  if (out.empty()) out.push_back(HostCandidate{"localhost", 3306u});
  return out;
}

bool wants_read_write(const Url& url) {
  const auto it = url.query().find("target_session_attrs");
  return it != url.query().end() && it->second == "read-write";
}

bool probe_says_read_only(const char* read_only, const char* innodb_read_only) noexcept {
  auto on = [](const char* v) { return v != nullptr && (std::strcmp(v, "1") == 0 || std::strcmp(v, "ON") == 0); };
  return on(read_only) || on(innodb_read_only);
}

void HostAttempts::failed(const HostCandidate& host, std::string reason) {
  tried_.push_back(host.describe() + ": " + std::move(reason));
}

void HostAttempts::throw_error(const Url& url, bool read_write) const {
  std::string list;
  for (const auto& t : tried_) {
    if (!list.empty()) list += "; ";
    list += t;
  }
  ErrorDetail d;
  d.server_message = list;
  throw ConnectError("could not connect to " + std::string(read_write ? "a writable" : "any") + " MySQL server of " +
                         url.str() + " (tried " + std::to_string(tried_.size()) + " host" +
                         (tried_.size() == 1 ? "" : "s") + " in order: " + list + ")",
                     d);
}

}  // namespace corm::driver::mysql

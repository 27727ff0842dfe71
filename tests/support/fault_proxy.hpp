#pragma once
// An in-process TCP fault proxy on loopback for the reliability suite (tests/fault). It sits
// between a client (the engine under test) and a real server and, switchable at runtime:
//   pass        forwards both directions;
//   blackhole   keeps every connection open but forwards nothing, in either direction (what a
//               dead network link or a silently dropped route looks like to both ends);
//   reset       closes every connection with an RST (SO_LINGER 0) and resets new ones at once.
// Rules that apply on top of pass mode:
//   delay_accept(n, d)         the n-th connection accepted from now on waits d before it is
//                              connected to the server;
//   cut_after_bytes(n)         a connection that has carried n bytes (both directions, counted
//                              from its start) is reset right there;
//   cut_on_client_text(s, f)   a connection whose client sends bytes containing s is reset,
//                              before that chunk reaches the server (f = false) or 300 ms after
//                              it did (f = true: the server acts on it, its reply is dropped).
// The proxy runs its own io_context on its own thread; every method may be called from any
// other thread (not from the proxy's own).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace corm::test {

class FaultProxy {
 public:
  enum class Mode { pass, blackhole, reset };

  /// Listens on 127.0.0.1 at a free port and forwards to host:port.
  FaultProxy(std::string upstream_host, std::uint16_t upstream_port);
  /// Forwards to the host and port of a postgresql:// URL.
  static std::unique_ptr<FaultProxy> for_url(const std::string& url);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// The port clients should connect to.
  std::uint16_t port() const noexcept;
  /// `url` with its host and port replaced by the proxy's.
  std::string url_through(const std::string& url) const;

  /// Switches every connection, open or future. Returns once the switch is in effect.
  void set_mode(Mode m);
  Mode mode() const noexcept;
  /// Resets (RST) every open connection now; new ones are served per the mode.
  void reset_all();
  void delay_accept(std::size_t nth, std::chrono::milliseconds delay);
  void cut_after_bytes(std::size_t bytes);
  void cut_on_client_text(std::string text, bool forward_first = false);
  /// Drops every rule set by delay_accept / cut_after_bytes / cut_on_client_text.
  void clear_rules();

  /// Connections accepted so far.
  std::size_t accepted() const noexcept;
  /// Connections currently open (client side still connected to the proxy).
  std::size_t open_connections() const;
  /// Connections the proxy cut (reset_all, reset mode, byte or text rules).
  std::size_t cuts() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace corm::test

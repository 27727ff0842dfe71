#include "support/fault_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <array>
#include <atomic>
#include <future>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace corm::test {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

struct Link {
  explicit Link(asio::io_context& io) : client(io), server(io) {}
  tcp::socket client;
  tcp::socket server;
  std::size_t bytes = 0;   // carried so far, both directions
  std::string tail;        // last bytes the client sent (text rule across chunk boundaries)
  bool cut = false;
  bool mute = false;       // server-to-client bytes are dropped (a reply lost on its way)
  bool connected = false;  // the server side is connected
};

// Closes with an RST instead of a FIN: SO_LINGER on with a zero timeout.
void hard_close(tcp::socket& s) {
  boost::system::error_code ec;
  if (!s.is_open()) return;
  s.set_option(asio::socket_base::linger(true, 0), ec);
  s.close(ec);
}

void soft_close(tcp::socket& s) {
  boost::system::error_code ec;
  if (!s.is_open()) return;
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

}  // namespace

// The coroutines refer to the Impl by `this`: ~FaultProxy joins the proxy's thread before the
// Impl goes, and a frame holding a shared_ptr to its own io_context's owner would be a cycle
// (frames still queued at stop() would keep the Impl, its io_context and every socket alive).
struct FaultProxy::Impl {
  Impl(std::string host, std::uint16_t port)
      : upstream(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port),
        acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    local_port = acceptor.local_endpoint().port();
  }

  asio::io_context io;
  tcp::endpoint upstream;
  tcp::acceptor acceptor;
  std::uint16_t local_port = 0;
  std::thread thread;

  // Everything below is touched only on the proxy's thread, except the atomics.
  std::list<std::shared_ptr<Link>> links;
  std::atomic<Mode> mode{Mode::pass};
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> cuts{0};
  std::size_t delay_nth = 0;  // 0 = no rule; counted from accepted_at_rule
  std::size_t accepted_at_rule = 0;
  std::chrono::milliseconds delay{0};
  std::size_t cut_bytes = 0;  // 0 = no rule
  std::string cut_text;       // empty = no rule
  bool cut_forward_first = false;

  // Runs f on the proxy's thread and waits for it.
  template <class F>
  void sync(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void cut(const std::shared_ptr<Link>& l) {
    if (l->cut) return;
    l->cut = true;
    ++cuts;
    hard_close(l->client);
    hard_close(l->server);
  }

  void forget(const std::shared_ptr<Link>& l) { links.remove(l); }

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto l = std::make_shared<Link>(io);
      co_await acceptor.async_accept(l->client, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      const std::size_t n = ++accepted;
      links.push_back(l);
      if (mode == Mode::reset) {
        cut(l);
        forget(l);
        continue;
      }
      std::chrono::milliseconds wait{0};
      if (delay_nth != 0 && n - accepted_at_rule == delay_nth) wait = delay;
      asio::co_spawn(io, serve(l, wait), asio::detached);
    }
  }

  awaitable<void> serve(std::shared_ptr<Link> l, std::chrono::milliseconds wait) {
    if (wait.count() > 0) {
      asio::steady_timer t(io, wait);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!l->cut && mode == Mode::blackhole) {
      // A black hole from the first byte: never reach the server, swallow what the client sends.
      co_await swallow(l);
    }
    if (l->cut) {
      forget(l);
      co_return;
    }
    boost::system::error_code ec;
    co_await l->server.async_connect(upstream, asio::redirect_error(use_awaitable, ec));
    if (ec || l->cut) {
      cut(l);
      forget(l);
      co_return;
    }
    l->connected = true;
    asio::co_spawn(io, pump(l, true), asio::detached);
    co_await pump(l, false);
  }

  // Black-holed before connecting: read and drop until the mode changes or the client leaves.
  awaitable<void> swallow(std::shared_ptr<Link> l) {
    std::array<char, 4096> buf{};
    while (!l->cut && mode == Mode::blackhole) {
      boost::system::error_code ec;
      co_await l->client.async_wait(tcp::socket::wait_read, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        cut(l);
        co_return;
      }
      const std::size_t n = l->client.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) {
        cut(l);
        co_return;
      }
    }
  }

  awaitable<void> pump(std::shared_ptr<Link> l, bool from_client) {
    tcp::socket& from = from_client ? l->client : l->server;
    tcp::socket& to = from_client ? l->server : l->client;
    std::array<char, 16384> buf{};
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (l->cut) break;
      if (ec) {
        // An orderly end on one side ends both (the other side sees a FIN, like a real peer).
        soft_close(l->client);
        soft_close(l->server);
        break;
      }
      if (mode == Mode::blackhole) continue;  // dropped on the floor
      if (!from_client && l->mute) continue;
      if (mode == Mode::reset) {
        cut(l);
        break;
      }
      if (from_client && !cut_text.empty()) {
        std::string window = l->tail + std::string(buf.data(), n);
        if (window.find(cut_text) != std::string::npos) {
          if (cut_forward_first) {
            // The server gets the message and acts on it; its reply is lost, then the link dies.
            l->mute = true;
            co_await asio::async_write(to, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
            asio::steady_timer t(io, std::chrono::milliseconds(300));
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
          }
          cut(l);
          break;
        }
        const std::size_t keep = cut_text.size();
        l->tail = window.size() > keep ? window.substr(window.size() - keep) : window;
      }
      if (cut_bytes != 0 && l->bytes + n >= cut_bytes) {
        const std::size_t allowed = cut_bytes > l->bytes ? cut_bytes - l->bytes : 0;
        if (allowed > 0) co_await asio::async_write(to, asio::buffer(buf.data(), allowed), asio::redirect_error(use_awaitable, ec));
        l->bytes += allowed;
        cut(l);
        break;
      }
      l->bytes += n;
      co_await asio::async_write(to, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
      if (l->cut) break;
      if (ec) {
        soft_close(l->client);
        soft_close(l->server);
        break;
      }
    }
    if (from_client) forget(l);
  }
};

FaultProxy::FaultProxy(std::string upstream_host, std::uint16_t upstream_port)
    : impl_(std::make_shared<Impl>(std::move(upstream_host), upstream_port)) {
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([i = impl_.get()] { i->io.run(); });
}

std::unique_ptr<FaultProxy> FaultProxy::for_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) throw std::invalid_argument("FaultProxy: not a URL");
  std::uint16_t port = u->has_port() ? u->port_number() : 5432;
  return std::make_unique<FaultProxy>(std::string(u->host()), port);
}

FaultProxy::~FaultProxy() {
  impl_->sync([i = impl_.get()] {
    boost::system::error_code ec;
    i->acceptor.close(ec);
    for (auto& l : i->links) {
      l->cut = true;
      hard_close(l->client);
      hard_close(l->server);
    }
    i->links.clear();
  });
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t FaultProxy::port() const noexcept { return impl_->local_port; }

std::string FaultProxy::url_through(const std::string& url) const {
  auto u = boost::urls::parse_uri(url);
  if (!u) throw std::invalid_argument("FaultProxy: not a URL");
  boost::urls::url copy(*u);
  copy.set_host_ipv4(boost::urls::ipv4_address(0x7f000001));
  copy.set_port_number(impl_->local_port);
  return std::string(copy.buffer());
}

void FaultProxy::set_mode(Mode m) {
  impl_->sync([i = impl_.get(), m] {
    i->mode = m;
    if (m == Mode::reset) {
      auto copy = i->links;
      for (auto& l : copy) i->cut(l);
      i->links.clear();
    }
  });
}

FaultProxy::Mode FaultProxy::mode() const noexcept { return impl_->mode; }

void FaultProxy::reset_all() {
  impl_->sync([i = impl_.get()] {
    auto copy = i->links;
    for (auto& l : copy) i->cut(l);
    i->links.clear();
  });
}

void FaultProxy::delay_accept(std::size_t nth, std::chrono::milliseconds d) {
  impl_->sync([i = impl_.get(), nth, d] {
    i->delay_nth = nth;
    i->delay = d;
    i->accepted_at_rule = i->accepted;
  });
}

void FaultProxy::cut_after_bytes(std::size_t bytes) {
  impl_->sync([i = impl_.get(), bytes] { i->cut_bytes = bytes; });
}

void FaultProxy::cut_on_client_text(std::string text, bool forward_first) {
  impl_->sync([i = impl_.get(), t = std::move(text), forward_first] {
    i->cut_text = t;
    i->cut_forward_first = forward_first;
  });
}

void FaultProxy::clear_rules() {
  impl_->sync([i = impl_.get()] {
    i->delay_nth = 0;
    i->cut_bytes = 0;
    i->cut_text.clear();
    i->cut_forward_first = false;
  });
}

std::size_t FaultProxy::accepted() const noexcept { return impl_->accepted; }

std::size_t FaultProxy::open_connections() const {
  std::size_t n = 0;
  impl_->sync([&n, i = impl_.get()] {
    for (auto& l : i->links)
      if (!l->cut && l->client.is_open()) ++n;
  });
  return n;
}

std::size_t FaultProxy::cuts() const noexcept { return impl_->cuts; }

}  // namespace corm::test

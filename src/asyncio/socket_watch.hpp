#pragma once
// Watching a C client library's socket with Asio. The reactor watches a duplicate of the
// library's descriptor, never the library's own: libpq (and Connector/C) close their descriptor
// by themselves when the server goes away, and another connection opening meanwhile gets the
// same number. Deregistering the old number then removed the *new* connection's epoll
// registration, and that connect waited until connect_timeout (seen when PostgreSQL backends
// were terminated under load). A duplicate keeps its number allocated until it is closed here.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace corm::asyncio_detail {

/// A close-on-exec duplicate of `fd`; throws std::system_error when none can be made.
inline int duplicate_socket(int fd) {
  const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) throw std::system_error(errno, std::generic_category(), "could not watch the connection's socket (dup)");
  return d;
}

/// Stops watching and closes the duplicate. Deregistering explicitly first matters: closing a
/// duplicate while the library's descriptor is open would leave its registration in the epoll set.
inline void unwatch(boost::asio::posix::stream_descriptor& d) noexcept {
  if (!d.is_open()) return;
  boost::system::error_code ec;
  d.cancel(ec);
  ::close(d.release());
}

/// A watch over a library's socket for one wait while connecting (the library may switch
/// sockets between attempts, so each wait takes the current one).
struct BorrowedSocket {
  boost::asio::posix::stream_descriptor d;
  BorrowedSocket(boost::asio::any_io_executor ex, int fd) : d(ex, duplicate_socket(fd)) {}
  ~BorrowedSocket() { unwatch(d); }
  BorrowedSocket(const BorrowedSocket&) = delete;
  BorrowedSocket& operator=(const BorrowedSocket&) = delete;
};

}  // namespace corm::asyncio_detail

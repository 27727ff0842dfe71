#include "corm/core/log.hpp"

#include <cerrno>
#include <string>

#include <unistd.h>

namespace corm {

void stderr_sink(LogLevel level, std::string_view line) {
  std::string_view name;
  switch (level) {
    case LogLevel::debug: name = "DEBUG "; break;
    case LogLevel::info: name = "INFO "; break;
    case LogLevel::warning: name = "WARNING "; break;
    case LogLevel::error: name = "ERROR "; break;
  }
  // One buffer, one write(2): lines up to PIPE_BUF are atomic, so lines from threads never
  // interleave; stdio's stderr would split them into several writes.
  std::string buf;
  buf.reserve(8 + name.size() + line.size() + 1);
  buf += "[corm] ";
  buf += name;
  buf += line;
  buf += '\n';
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // A log sink must never throw; a closed stderr loses the line.
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace corm

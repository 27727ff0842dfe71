#include "core/excerpt.hpp"

namespace corm::detail {

std::string quote_excerpt(std::string_view text) {
  constexpr std::size_t max_len = 40;
  std::size_t n = text.size();
  bool cut = false;
  if (n > max_len) {
    n = max_len - 3;
    // Never split a multi-byte UTF-8 sequence: back off over continuation bytes.
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  std::string out;
  out.reserve(n + 5);
  out.push_back('\'');
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : text[i]);
  }
  if (cut) out += "...";
  out.push_back('\'');
  return out;
}

}  // namespace corm::detail

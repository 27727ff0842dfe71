#include "core/temporal.hpp"

#include <charconv>
#include <chrono>

namespace corm::detail {

namespace {

using namespace std::chrono;

// A tiny cursor over the text: every accessor fails softly so the parsers stay noexcept.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const noexcept { return i >= s.size(); }
  char peek() const noexcept { return done() ? '\0' : s[i]; }
  bool eat(char c) noexcept {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  // Reads exactly `n` digits (or, with n == 0, one or more) into `out`.
  bool digits(int& out, std::size_t n) noexcept {
    std::size_t start = i;
    while (!done() && s[i] >= '0' && s[i] <= '9' && (n == 0 || i - start < n)) ++i;
    if (i == start || (n != 0 && i - start != n) || i - start > 9) return false;
    std::from_chars(s.data() + start, s.data() + i, out);
    return true;
  }
};

// Parses the date part, including years of more than four digits as PostgreSQL prints them.
bool parse_ymd(Cursor& c, year_month_day& out) noexcept {
  int y = 0, m = 0, d = 0;
  std::size_t start = c.i;
  if (!c.digits(y, 0) || c.i - start < 4 || !c.eat('-') || !c.digits(m, 2) || !c.eat('-') ||
      !c.digits(d, 2))
    return false;
  out = year_month_day{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  return true;
}

// ' BC' ends the text: year N BC is astronomical year 1 - N (there is no year 0 BC).
bool apply_era(Cursor& c, year_month_day& ymd) noexcept {
  if (c.s.substr(c.i) == " BC") {
    if (static_cast<int>(ymd.year()) == 0) return false;
    ymd = year_month_day{year{1 - static_cast<int>(ymd.year())}, ymd.month(), ymd.day()};
    c.i = c.s.size();
  }
  return ymd.ok();
}

// Zero-padded decimal digits, written by hand: these run once per bound timestamp and were a
// visible part of a 10,000-row flush when they went through snprintf.
char* put_digits(char* p, long long v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) tmp[n++] = '0';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

// "YYYY-MM-DD" into `p`; returns the end. Years before 1 are written as their BC year; the
// caller appends " BC" (it must come after the time of day).
char* put_ymd(char* p, year_month_day ymd, bool& bc) {
  int y = static_cast<int>(ymd.year());
  bc = y <= 0;
  if (bc) y = 1 - y;
  p = put_digits(p, y, 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  return put_digits(p, static_cast<unsigned>(ymd.day()), 2);
}

std::string format_ymd(year_month_day ymd) {
  char buf[32];
  bool bc = false;
  char* end = put_ymd(buf, ymd, bc);
  std::string out(buf, end);
  if (bc) out += " BC";
  return out;
}

}  // namespace

std::string format_timestamp(Timestamp t) {
  const auto days = floor<std::chrono::days>(t);
  const hh_mm_ss<microseconds> tod{t - days};
  char buf[64];
  bool bc = false;
  char* p = put_ymd(buf, year_month_day{days}, bc);
  *p++ = ' ';
  p = put_digits(p, tod.hours().count(), 2);
  *p++ = ':';
  p = put_digits(p, tod.minutes().count(), 2);
  *p++ = ':';
  p = put_digits(p, tod.seconds().count(), 2);
  *p++ = '.';
  p = put_digits(p, tod.subseconds().count(), 6);
  std::string out(buf, p);
  if (bc) out += " BC";
  return out;
}

std::string format_date(Date d) { return format_ymd(year_month_day{d}); }

std::optional<Timestamp> parse_timestamp(std::string_view text) noexcept {
  Cursor c{text};
  year_month_day ymd{};
  if (!parse_ymd(c, ymd)) return std::nullopt;
  int hh = 0, mi = 0, ss = 0;
  long long micros = 0;
  const char sep = c.peek();
  bool has_time = false;
  if ((sep == ' ' || sep == 'T' || sep == 't') && c.i + 1 < text.size() && text[c.i + 1] >= '0' &&
      text[c.i + 1] <= '9') {
    ++c.i;
    has_time = true;
    if (!c.digits(hh, 2) || !c.eat(':') || !c.digits(mi, 2)) return std::nullopt;
    if (c.eat(':')) {
      if (!c.digits(ss, 2)) return std::nullopt;
      if (c.eat('.')) {
        std::size_t start = c.i, used = 0;
        while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
          if (used < 6) micros = micros * 10 + (c.peek() - '0'), ++used;
          ++c.i;
        }
        if (c.i == start) return std::nullopt;
        for (; used < 6; ++used) micros *= 10;
      }
    }
    if (hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  }
  // Offset: 'Z', or ±HH[[:]MM[[:]SS]] (PostgreSQL prints seconds for historic zones). A bare
  // date takes none: '2024-01-01-05' is malformed, not a shifted midnight.
  seconds offset{0};
  if (has_time) {
    if (c.peek() == ' ' && c.i + 1 < text.size() && (text[c.i + 1] == '+' || text[c.i + 1] == '-')) ++c.i;
    if (c.eat('Z') || c.eat('z')) {
    } else if (c.peek() == '+' || c.peek() == '-') {
      const int sign = c.peek() == '-' ? -1 : 1;
      ++c.i;
      int oh = 0, om = 0, os = 0;
      if (!c.digits(oh, 2)) return std::nullopt;
      if (c.eat(':') || (c.peek() >= '0' && c.peek() <= '9')) {
        if (!c.digits(om, 2)) return std::nullopt;
        if (c.eat(':') || (c.peek() >= '0' && c.peek() <= '9'))
          if (!c.digits(os, 2)) return std::nullopt;
      }
      if (oh > 15 || om > 59 || os > 59) return std::nullopt;
      offset = seconds{sign * (oh * 3600 + om * 60 + os)};
    }
  }
  if (!apply_era(c, ymd) || !c.done()) return std::nullopt;
  return Timestamp{sys_days{ymd}} + hours{hh} + minutes{mi} + seconds{ss} + microseconds{micros} -
         offset;
}

std::optional<Date> parse_date(std::string_view text) noexcept {
  Cursor c{text};
  year_month_day ymd{};
  if (!parse_ymd(c, ymd) || !apply_era(c, ymd) || !c.done()) return std::nullopt;
  return sys_days{ymd};
}

}  // namespace corm::detail

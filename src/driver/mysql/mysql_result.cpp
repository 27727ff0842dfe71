#include "driver/mysql/mysql_result.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace corm::driver::mysql {

namespace {

enum class Kind { integer, real, temporal, bytes, text };

constexpr unsigned binary_charset = 63;

Kind kind_of(const MYSQL_FIELD& f) {
  switch (f.type) {
    case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_YEAR:
      return Kind::integer;
    case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
      return Kind::real;
    case MYSQL_TYPE_DATE: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP: case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_NEWDATE:
      return Kind::temporal;
    case MYSQL_TYPE_BIT:
      return Kind::bytes;
    case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB: case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_GEOMETRY:
      return f.charsetnr == binary_charset ? Kind::bytes : Kind::text;
    default:
      return Kind::text;  // DECIMAL, JSON, ENUM, SET: exact text
  }
}

std::vector<std::string> column_names(MYSQL_FIELD* fields, unsigned n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (unsigned i = 0; i < n; ++i) out.emplace_back(fields[i].name, fields[i].name_length);
  return out;
}

void push_time(BufferedResultSet& rs, const MYSQL_TIME& t) {
  char buf[64];
  std::size_t len = 0;
  if (t.time_type == MYSQL_TIMESTAMP_DATE) {
    len = static_cast<std::size_t>(fmt::format_to_n(buf, sizeof buf, "{:04}-{:02}-{:02}", t.year, t.month, t.day).size);
  } else if (t.time_type == MYSQL_TIMESTAMP_TIME) {
    len = static_cast<std::size_t>(fmt::format_to_n(buf, sizeof buf, "{}{:02}:{:02}:{:02}.{:06}", t.neg ? "-" : "",
                                                    t.hour, t.minute, t.second, t.second_part)
                                       .size);
  } else {
    len = static_cast<std::size_t>(fmt::format_to_n(buf, sizeof buf, "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", t.year,
                                                    t.month, t.day, t.hour, t.minute, t.second, t.second_part)
                                       .size);
  }
  rs.push_text(std::string_view(buf, std::min(len, sizeof buf)));
}

}  // namespace

struct StatementRows::Column {
  Kind kind = Kind::text;
  std::int64_t i = 0;
  double d = 0;
  MYSQL_TIME t{};
  std::vector<char> buffer;
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
  bool is_unsigned = false;
};

// A streamed result does not know its longest value: buffers start at this size (or the column's
// declared length when smaller), and a longer value is fetched again whole.
constexpr unsigned long streamed_buffer = 256;

StatementRows::StatementRows(MYSQL_STMT* stmt, MYSQL_RES* meta, bool stored) : stmt_(stmt) {
  const unsigned n = mysql_num_fields(meta);
  MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  names_ = column_names(fields, n);
  cols_.resize(n);
  binds_.resize(n);
  for (unsigned c = 0; c < n; ++c) {
    Column& col = cols_[c];
    MYSQL_BIND& b = binds_[c];
    std::memset(&b, 0, sizeof b);
    col.kind = kind_of(fields[c]);
    b.is_null = &col.is_null;
    b.length = &col.length;
    b.error = &col.error;
    switch (col.kind) {
      case Kind::integer:
        col.is_unsigned = (fields[c].flags & UNSIGNED_FLAG) != 0;
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &col.i;
        b.is_unsigned = col.is_unsigned;
        break;
      case Kind::real:
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &col.d;
        break;
      case Kind::temporal:
        b.buffer_type = fields[c].type;
        b.buffer = &col.t;
        b.buffer_length = sizeof col.t;
        break;
      case Kind::bytes: case Kind::text: {
        // max_length is the longest value of a stored result (STMT_ATTR_UPDATE_MAX_LENGTH).
        const unsigned long size =
            stored ? fields[c].max_length : std::min<unsigned long>(fields[c].length, streamed_buffer);
        col.buffer.resize(std::max<unsigned long>(size, 1));
        b.buffer_type = col.kind == Kind::bytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
        b.buffer = col.buffer.data();
        b.buffer_length = static_cast<unsigned long>(col.buffer.size());
        break;
      }
    }
  }
  if (mysql_stmt_bind_result(stmt_, binds_.data()) != 0) throw StatementFailed();
}

StatementRows::~StatementRows() = default;

std::shared_ptr<BufferedResultSet> StatementRows::make_set() const {
  auto rs = std::make_shared<BufferedResultSet>();
  rs->set_columns(names_);
  return rs;
}

void StatementRows::append(BufferedResultSet& rs) {
  for (unsigned c = 0; c < cols_.size(); ++c) {
    Column& col = cols_[c];
    if (col.is_null) {
      rs.push_null();
      continue;
    }
    switch (col.kind) {
      case Kind::integer:
        if (col.is_unsigned && static_cast<std::uint64_t>(col.i) > static_cast<std::uint64_t>(INT64_MAX))
          rs.push_text(std::to_string(static_cast<std::uint64_t>(col.i)));
        else
          rs.push_int(col.i);
        break;
      case Kind::real: rs.push_real(col.d); break;
      case Kind::temporal: push_time(rs, col.t); break;
      case Kind::bytes: case Kind::text: {
        if (col.length > col.buffer.size()) {
          // Longer than the buffer (max_length can miss a value; a streamed result guesses):
          // fetch the column again, whole.
          std::vector<char> whole(col.length);
          MYSQL_BIND again;
          std::memset(&again, 0, sizeof again);
          again.buffer_type = binds_[c].buffer_type;
          again.buffer = whole.data();
          again.buffer_length = col.length;
          if (mysql_stmt_fetch_column(stmt_, &again, c, 0) != 0) throw StatementFailed();
          const std::string_view v(whole.data(), whole.size());
          col.kind == Kind::bytes ? rs.push_blob(v) : rs.push_text(v);
        } else {
          const std::string_view v(col.buffer.data(), col.length);
          col.kind == Kind::bytes ? rs.push_blob(v) : rs.push_text(v);
        }
        break;
      }
    }
  }
}

std::shared_ptr<const ResultSet> affected_rows_result(MYSQL_STMT* stmt) {
  auto rs = std::make_shared<BufferedResultSet>();
  rs->set_affected_rows(static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt)));
  return rs;
}

std::shared_ptr<const ResultSet> read_stored_statement_result(MYSQL_STMT* stmt, MYSQL_RES* meta) {
  StatementRows reader(stmt, meta, true);
  auto rs = reader.make_set();
  std::int64_t rows = 0;
  for (;;) {
    const int rc = mysql_stmt_fetch(stmt);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) throw StatementFailed();
    ++rows;
    reader.append(*rs);
  }
  rs->set_affected_rows(rows);
  return rs;
}

std::shared_ptr<const ResultSet> read_text_result(MYSQL_RES* res) {
  auto rs = std::make_shared<BufferedResultSet>();
  const unsigned n = mysql_num_fields(res);
  MYSQL_FIELD* fields = mysql_fetch_fields(res);
  rs->set_columns(column_names(fields, n));
  std::vector<Kind> kinds(n);
  for (unsigned c = 0; c < n; ++c) kinds[c] = kind_of(fields[c]);
  std::int64_t rows = 0;
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    ++rows;
    const unsigned long* lengths = mysql_fetch_lengths(res);
    for (unsigned c = 0; c < n; ++c) {
      if (row[c] == nullptr) {
        rs->push_null();
        continue;
      }
      const std::string_view v(row[c], lengths[c]);
      switch (kinds[c]) {
        case Kind::integer: {
          std::int64_t i = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
          if (ec == std::errc() && p == v.data() + v.size()) rs->push_int(i);
          else rs->push_text(v);  // beyond int64 (BIGINT UNSIGNED): exact text
          break;
        }
        case Kind::real: rs->push_real(std::strtod(std::string(v).c_str(), nullptr)); break;
        case Kind::bytes: rs->push_blob(v); break;
        case Kind::temporal: case Kind::text: rs->push_text(v); break;
      }
    }
  }
  rs->set_affected_rows(rows);
  return rs;
}

}  // namespace corm::driver::mysql

#include "driver/postgres/pg_result.hpp"

#include <charconv>
#include <cstring>
#include <string>

#include "corm/core/error.hpp"
#include "core/pg_binary.hpp"

namespace corm::driver::postgres {

PgResultSet::PgResultSet(PGresult* res) : res_(res) {
  rows_ = static_cast<std::size_t>(PQntuples(res));
  const int n = PQnfields(res);
  columns_.resize(static_cast<std::size_t>(n), Column{0, detail::PgBinaryKind::none});
  for (int i = 0; i < n; ++i) {
    Column& c = columns_[static_cast<std::size_t>(i)];
    c.type = PQftype(res, i);
    // Binary is only asked for when every column has a kind (PgConnection); anything else
    // arriving in binary becomes a blob that the decoders reject with a clear message.
    if (PQfformat(res, i) == 1) {
      c.binary = detail::pg_binary_kind(c.type);
      if (c.binary == detail::PgBinaryKind::none) c.binary = detail::PgBinaryKind::raw;
    }
  }
  affected_ = -1;
  const char* tuples = PQcmdTuples(res);
  if (tuples != nullptr && *tuples != '\0') {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(tuples, tuples + std::strlen(tuples), v);
    if (ec == std::errc()) affected_ = v;
  }
}

PgResultSet::~PgResultSet() { PQclear(res_); }

std::string_view PgResultSet::column_name(std::size_t col) const {
  const char* name = PQfname(res_, static_cast<int>(col));
  return name ? std::string_view(name) : std::string_view();
}

// The one place a cell is made; cell() and cells() inline it, so a row read through cells()
// costs two libpq calls per value and one virtual call per row.
inline Cell PgResultSet::make_cell(int r, std::size_t col) const {
  Cell c;
  const int f = static_cast<int>(col);
  // libpq reports a NULL as length 0, so only an empty value needs the NULL check: one libpq
  // call fewer for nearly every cell of a large result.
  const auto length = static_cast<std::size_t>(PQgetlength(res_, r, f));
  if (length == 0 && PQgetisnull(res_, r, f)) return c;
  const char* value = PQgetvalue(res_, r, f);
  const Column& column = columns_[col];
  if (column.binary != detail::PgBinaryKind::none) return detail::pg_binary_cell(column.binary, column.type, value, length);
  c.kind = Cell::Kind::text;
  c.s = std::string_view(value, length);
  c.pg_type = column.type;
  return c;
}

Cell PgResultSet::cell(std::size_t row, std::size_t col) const { return make_cell(static_cast<int>(row), col); }

void PgResultSet::cells(std::size_t row, std::size_t first, std::size_t n, Cell* out) const {
  const int r = static_cast<int>(row);
  for (std::size_t i = 0; i < n; ++i) out[i] = make_cell(r, first + i);
}

namespace {

std::string field(const PGresult* res, int code) {
  const char* v = PQresultErrorField(res, code);
  return v ? std::string(v) : std::string();
}

// SQLSTATE classes whose primary message can quote a value the statement carried: data
// exceptions ("invalid input syntax for type integer: \"…\"") and whatever a function raises
// (P0). The others name objects (relations, constraints, columns), never values.
bool may_quote_values(std::string_view sqlstate) noexcept {
  // Data exceptions whose text never carries a value: division by zero, a string too long for
  // its column, a NULL where none is allowed, an array subscript out of range.
  for (std::string_view plain : {"22012", "22001", "22004", "22026", "2202E"})
    if (sqlstate == plain) return false;
  const std::string_view cls = sqlstate.substr(0, 2);
  return cls == "22" || cls == "P0" || cls == "XX" || sqlstate.empty();
}

template <class E, class... Extra>
std::exception_ptr make(bool hide_values, std::string what, ErrorDetail d, Extra... extra) {
  if (hide_values && may_quote_values(d.sqlstate)) {
    what += " [SQLSTATE ";
    what += d.sqlstate;
    what += "; the server's message may quote a bound value, so it is in server_message() only — "
            "ConnectOptions::hide_parameters = false puts it here]";
  } else {
    what += " (";
    what += d.server_message;
    what += ")";
  }
  return std::make_exception_ptr(E(what, extra..., std::move(d)));
}

}  // namespace

std::exception_ptr classify(const PGresult* res, std::string_view statement, bool hide_values) {
  ErrorDetail d;
  d.sqlstate = field(res, PG_DIAG_SQLSTATE);
  d.server_message = field(res, PG_DIAG_MESSAGE_PRIMARY);
  if (d.server_message.empty()) d.server_message = PQresultErrorMessage(res);
  d.constraint = field(res, PG_DIAG_CONSTRAINT_NAME);
  d.table = field(res, PG_DIAG_TABLE_NAME);
  d.column = field(res, PG_DIAG_COLUMN_NAME);
  d.statement = std::string(statement);
  const std::string& s = d.sqlstate;
  const std::string cls = s.substr(0, 2);

  if (s == "23505") return make<IntegrityError>(hide_values, "unique constraint violated", std::move(d), IntegrityKind::unique);
  if (s == "23503") return make<IntegrityError>(hide_values, "foreign key constraint violated", std::move(d), IntegrityKind::foreign_key);
  if (s == "23502") return make<IntegrityError>(hide_values, "NOT NULL constraint violated", std::move(d), IntegrityKind::not_null);
  if (s == "23514") return make<IntegrityError>(hide_values, "check constraint violated", std::move(d), IntegrityKind::check);
  if (cls == "23") return make<IntegrityError>(hide_values, "integrity constraint violated", std::move(d), IntegrityKind::other);
  if (s == "40P01") return make<DeadlockDetected>(hide_values, "deadlock detected; the transaction was rolled back — retry it", std::move(d));
  if (s == "40001") return make<SerializationFailure>(hide_values, "could not serialize access; the transaction was rolled back — retry it", std::move(d));
  if (cls == "40") return make<TransactionRollbackError>(hide_values, "transaction rolled back by the server", std::move(d));
  if (s == "57014") return make<QueryCanceled>(hide_values, "statement canceled (statement timeout or cancel request)", std::move(d));
  if (s == "57P01" || s == "57P02" || s == "57P03" || cls == "08")
    return make<ConnectionLost>(hide_values, "connection to the server was lost", std::move(d));
  if (s == "25P02")
    return make<DatabaseError>(hide_values, "the transaction is aborted by an earlier error; call rollback() before running more statements", std::move(d));
  if (cls == "22") return make<DataError>(hide_values, "invalid data", std::move(d));
  if (cls == "42") return make<ProgrammingError>(hide_values, "SQL error", std::move(d));
  if (cls == "53" || cls == "54" || cls == "55" || cls == "57" || cls == "58")
    return make<OperationalError>(hide_values, "the server could not run the statement", std::move(d));
  return make<DatabaseError>(hide_values, "database error", std::move(d));
}

std::exception_ptr connection_lost(PGconn* conn, std::string_view statement, std::string_view during) {
  ErrorDetail d;
  d.statement = std::string(statement);
  d.server_message = conn ? PQerrorMessage(conn) : "";
  while (!d.server_message.empty() && (d.server_message.back() == '\n' || d.server_message.back() == ' '))
    d.server_message.pop_back();
  std::string what = "connection to the server was lost";
  if (!during.empty()) {
    what += " during ";
    what += during;
  }
  what += " (" + d.server_message + ")";
  // A COMMIT whose reply never arrived may or may not have been applied.
  std::string_view st = statement;
  while (!st.empty() && st.front() == ' ') st.remove_prefix(1);
  if (st.size() >= 6 && (st.substr(0, 6) == "COMMIT" || st.substr(0, 6) == "commit")) {
    return std::make_exception_ptr(CommitOutcomeUnknown(
        what + "; the COMMIT may or may not have been applied — check before retrying", std::move(d)));
  }
  return std::make_exception_ptr(ConnectionLost(what, std::move(d)));
}

}  // namespace corm::driver::postgres

#include "driver/sqlite/sqlite_error.hpp"

#include <sqlite3.h>

#include <string>

#include "corm/core/error.hpp"

namespace corm::driver::sqlite {

namespace {

// Fills table, column and constraint from SQLite's constraint messages:
//   "UNIQUE constraint failed: users.email"           (also "t.a, t.b" for composite keys)
//   "UNIQUE constraint failed: index 'ux_name'"       (unique index on an expression)
//   "NOT NULL constraint failed: users.name"
//   "CHECK constraint failed: price_positive"         (a constraint name, or its expression)
//   "FOREIGN KEY constraint failed"                   (SQLite names nothing)
void parse_constraint_message(std::string_view msg, ErrorDetail& d) {
  constexpr std::string_view marker = "constraint failed: ";
  const auto pos = msg.find(marker);
  if (pos == std::string_view::npos) return;
  std::string_view rest = msg.substr(pos + marker.size());
  if (msg.substr(0, pos).starts_with("CHECK")) {
    d.constraint = rest;
    return;
  }
  if (rest.starts_with("index '") && rest.ends_with("'")) {
    d.constraint = rest.substr(7, rest.size() - 8);
    return;
  }
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    const std::string_view item = rest.substr(0, comma);
    const auto dot = item.find('.');
    if (dot != std::string_view::npos) {
      if (d.table.empty()) d.table = item.substr(0, dot);
      if (!d.column.empty()) d.column += ", ";
      d.column += item.substr(dot + 1);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 2);
  }
}

std::string with_server(std::string_view words, std::string_view server) {
  std::string out(words);
  if (!server.empty()) {
    out += " (";
    out += server;
    out += ')';
  }
  return out;
}

}  // namespace

bool poisons_connection(int code) noexcept {
  const int primary = code & 0xFF;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

void throw_error(int code, std::string_view server_message, std::string_view statement, Phase phase,
                 std::chrono::milliseconds busy_timeout, std::string_view database) {
  ErrorDetail d;
  d.result_code = code;
  d.statement = statement;
  d.server_message = server_message;
  const std::string msg(server_message);
  const int primary = code & 0xFF;

  if (phase == Phase::open)
    throw ConnectError(with_server("cannot open the SQLite database '" +
                                       std::string(database.empty() ? ":memory:" : database) + "'",
                                   msg),
                       std::move(d));

  switch (primary) {
    case SQLITE_CONSTRAINT: {
      parse_constraint_message(server_message, d);
      switch (code) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
          throw IntegrityError(with_server("unique constraint violated", msg), IntegrityKind::unique, std::move(d));
        case SQLITE_CONSTRAINT_FOREIGNKEY:
          throw IntegrityError(with_server("foreign key constraint violated", msg), IntegrityKind::foreign_key,
                               std::move(d));
        case SQLITE_CONSTRAINT_NOTNULL:
          throw IntegrityError(with_server("NOT NULL constraint violated", msg), IntegrityKind::not_null,
                               std::move(d));
        case SQLITE_CONSTRAINT_CHECK:
          throw IntegrityError(with_server("CHECK constraint violated", msg), IntegrityKind::check, std::move(d));
        case SQLITE_CONSTRAINT_DATATYPE:
          // A STRICT table refused a value of the wrong type: a data problem, not an integrity rule.
          throw DataError(with_server("value has the wrong type for a STRICT table column", msg), std::move(d));
        default:
          throw IntegrityError(with_server("constraint violated", msg), IntegrityKind::other, std::move(d));
      }
    }
    case SQLITE_BUSY:
      if (code == SQLITE_BUSY_SNAPSHOT)
        throw SerializationFailure(
            with_server("another connection wrote since this transaction began reading, so it cannot write; "
                        "roll back and run the transaction again (or start it with BEGIN IMMEDIATE)",
                        msg),
            std::move(d));
      [[fallthrough]];
    case SQLITE_LOCKED:
      throw OperationalError(
          with_server("the database is locked by another connection and stayed locked for sqlite_busy_timeout (" +
                          std::to_string(busy_timeout.count()) +
                          " ms); raise sqlite_busy_timeout, keep write transactions short, or use fewer "
                          "concurrent writers",
                      msg),
          std::move(d));
    case SQLITE_INTERRUPT:
      throw QueryCanceled(with_server("the statement was interrupted (statement_timeout or cancellation)", msg),
                          std::move(d));
    case SQLITE_TOOBIG:
      throw DataError(with_server("a value or statement exceeds SQLite's size limit", msg), std::move(d));
    case SQLITE_MISMATCH:
      throw DataError(with_server("data type mismatch", msg), std::move(d));
    case SQLITE_RANGE:
      throw DataError(with_server("parameter index out of range", msg), std::move(d));
    case SQLITE_ERROR:
      throw ProgrammingError(with_server("SQL error", msg), std::move(d));
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      throw OperationalError(with_server("the database file is unusable", msg), std::move(d));
    case SQLITE_IOERR:
      throw OperationalError(with_server("disk I/O error", msg), std::move(d));
    case SQLITE_FULL:
      throw OperationalError(with_server("the database or disk is full", msg), std::move(d));
    case SQLITE_READONLY:
      throw OperationalError(with_server("the database is read-only", msg), std::move(d));
    case SQLITE_NOMEM:
      throw OperationalError(with_server("SQLite ran out of memory", msg), std::move(d));
    case SQLITE_MISUSE:
      throw UsageError(with_server("SQLite API misuse (a corm bug; please report it)", msg), std::move(d));
    default:
      throw DatabaseError(with_server("SQLite error " + std::to_string(code), msg), std::move(d));
  }
}

}  // namespace corm::driver::sqlite

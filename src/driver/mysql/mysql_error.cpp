#include "driver/mysql/mysql_error.hpp"

#include <string>

#include "corm/core/error.hpp"

namespace corm::driver::mysql {

namespace {

// The first backquoted or single-quoted name after `marker` in `message` ("for key 'x'",
// "CONSTRAINT `x`", "Column 'x'", "Table 'db.x'"); empty when absent.
std::string quoted_after(std::string_view message, std::string_view marker) {
  const auto at = message.find(marker);
  if (at == std::string_view::npos) return {};
  auto open = at + marker.size();
  while (open < message.size() && message[open] == ' ') ++open;
  if (open >= message.size() || (message[open] != '\'' && message[open] != '`')) return {};
  const char quote = message[open];
  const auto close = message.find(quote, open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(message.substr(open + 1, close - open - 1));
}

// "db.table" → "table" (MySQL 8 names a key `table.key`; the key part is what users declared).
std::string last_part(std::string s) {
  const auto dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

// Callers build `what` from `d` before calling: the detail is moved in only here, so the message
// can never be computed from a moved-from detail (argument order is unspecified).
template <class E, class... Extra>
std::exception_ptr make(const std::string& what, ErrorDetail& d, Extra... extra) {
  return std::make_exception_ptr(E(what, extra..., d));
}

// Appends the server's message where it cannot hold a bound value (it names objects only).
std::string with_server(std::string what, const ErrorDetail& d) {
  return what + " (" + d.server_message + ")";
}

std::string hidden(std::string what, const ErrorDetail& d) {
  return what + " [MySQL error " + std::to_string(d.result_code) + ", SQLSTATE " + d.sqlstate +
         "; the server's message may quote a bound value, so it is in server_message() only]";
}

}  // namespace

bool is_connection_lost(unsigned code) noexcept {
  // 2006 server gone away, 2013 lost during query, 2055 lost at reading, 2026 SSL error,
  // 4031 disconnected for inactivity (MySQL 8), 1927 connection killed (MariaDB), 1053 server
  // shutdown in progress, 1152/1153 aborted connection.
  return code == 2006 || code == 2013 || code == 2055 || code == 2026 || code == 4031 || code == 1927 ||
         code == 1053 || code == 1152;
}

std::exception_ptr classify(unsigned code, std::string_view sqlstate, std::string_view message,
                            std::string_view statement, Phase phase) {
  ErrorDetail d;
  d.sqlstate = std::string(sqlstate);
  d.result_code = static_cast<int>(code);
  d.server_message = std::string(message);
  d.statement = std::string(statement);
  const std::string cls = d.sqlstate.substr(0, 2);

  if (is_connection_lost(code) || code == 2002 || code == 2003) {
    if (phase == Phase::connect)
      return make<ConnectError>(with_server("could not connect to the MySQL server", d), d);
    if (phase == Phase::commit)
      return make<CommitOutcomeUnknown>(
          "the connection was lost while COMMIT was in flight: the transaction may or may not have been committed; "
          "check the data before running it again (MySQL error " + std::to_string(code) + ")",
          d);
    return make<ConnectionLost>(with_server("connection to the server was lost", d), d);
  }
  if (phase == Phase::connect)
    return make<ConnectError>(with_server("could not connect to the MySQL server", d), d);

  switch (code) {
    case 1062:    // ER_DUP_ENTRY: "Duplicate entry '<value>' for key '<key>'"
    case 1586: {  // ER_DUP_ENTRY_WITH_KEY_NAME
      d.constraint = last_part(quoted_after(message, "for key"));
      std::string what = "unique constraint violated";
      if (!d.constraint.empty()) what += " (key '" + d.constraint + "')";
      return make<IntegrityError>(what, d, IntegrityKind::unique);
    }
    case 1451:    // ER_ROW_IS_REFERENCED_2: parent row still referenced
    case 1452: {  // ER_NO_REFERENCED_ROW_2: child row points at nothing
      d.constraint = quoted_after(message, "CONSTRAINT");
      // "... fails (`db`.`child`, CONSTRAINT `fk` ...)": the child table follows the schema.
      const auto paren = message.find("(`");
      if (paren != std::string_view::npos) d.table = quoted_after(message.substr(paren), "`.");
      std::string what = "foreign key constraint violated";
      if (!d.constraint.empty()) what += " (constraint '" + d.constraint + "')";
      what += code == 1451 ? ": the row is still referenced" : ": the referenced row does not exist";
      return make<IntegrityError>(what, d, IntegrityKind::foreign_key);
    }
    case 1048:    // ER_BAD_NULL_ERROR: "Column 'c' cannot be null"
    case 1364: {  // ER_NO_DEFAULT_FOR_FIELD: "Field 'c' doesn't have a default value"
      d.column = quoted_after(message, code == 1048 ? "Column" : "Field");
      std::string what = "NOT NULL constraint violated";
      if (!d.column.empty()) what += " (column '" + d.column + "')";
      return make<IntegrityError>(what, d, IntegrityKind::not_null);
    }
    case 3819:    // MySQL 8 ER_CHECK_CONSTRAINT_VIOLATED: "Check constraint 'c' is violated."
    case 4025: {  // MariaDB ER_CONSTRAINT_FAILED: "CONSTRAINT `c` failed for `db`.`t`"
      d.constraint = code == 3819 ? quoted_after(message, "constraint") : quoted_after(message, "CONSTRAINT");
      std::string what = "check constraint violated";
      if (!d.constraint.empty()) what += " (constraint '" + d.constraint + "')";
      return make<IntegrityError>(what, d, IntegrityKind::check);
    }
    case 1213:
      return make<DeadlockDetected>("deadlock detected; the transaction was rolled back — retry it", d);
    case 1205:
      return make<SerializationFailure>(
          "lock wait timeout exceeded (innodb_lock_wait_timeout): another transaction holds the row; roll back "
          "and retry the transaction",
          d);
    case 1792:  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (SQLSTATE 25006)
      return make<DatabaseError>(
          with_server("cannot write in a READ ONLY transaction (a read-only session or transactional(read_only)); "
                      "run the write in a read-write transaction",
                      d),
          d);
    case 1317:  // ER_QUERY_INTERRUPTED (KILL QUERY)
    case 1969:  // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
    case 3024:  // MySQL ER_QUERY_TIMEOUT (max_execution_time)
      return make<QueryCanceled>(with_server("statement canceled (statement timeout or cancel request)", d),
                                 d);
    case 1146: {  // ER_NO_SUCH_TABLE: "Table 'db.t' doesn't exist"
      d.table = last_part(quoted_after(message, "Table"));
      return make<ProgrammingError>("table '" + d.table + "' does not exist (" + d.server_message + ")", d);
    }
    case 1054:  // ER_BAD_FIELD_ERROR: "Unknown column 'x' in 'field list'"
      d.column = quoted_after(message, "column");
      return make<ProgrammingError>(with_server("SQL error", d), d);
    case 1064:  // ER_PARSE_ERROR: quotes the statement's text, not its values
      return make<ProgrammingError>(with_server("SQL error", d), d);
    case 1406:  // data too long
    case 1264:  // out of range
    case 1366:  // incorrect value
    case 1292:  // truncated incorrect value
    case 1265:  // data truncated
    case 1365:  // division by 0
      return make<DataError>(hidden("invalid data", d), d);
    case 1040:  // too many connections
    case 1203:  // max_user_connections
    case 1021:  // disk full
    case 1114:  // table full
      return make<OperationalError>(with_server("the server could not run the statement", d), d);
    default: break;
  }
  if (cls == "23") return make<IntegrityError>(hidden("integrity constraint violated", d), d, IntegrityKind::other);
  if (cls == "40") return make<TransactionRollbackError>(with_server("transaction rolled back by the server", d), d);
  if (cls == "22") return make<DataError>(hidden("invalid data", d), d);
  if (cls == "42") return make<ProgrammingError>(with_server("SQL error", d), d);
  if (cls == "08") return make<ConnectionLost>(with_server("connection to the server was lost", d), d);
  return make<DatabaseError>(hidden("database error", d), d);
}

}  // namespace corm::driver::mysql

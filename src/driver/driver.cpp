// Dispatch from a URL's dialect to its driver: the one place that knows every driver.
#include "corm/driver/driver_connection.hpp"

#include "driver/mysql/mysql_connection.hpp"
#include "driver/postgres/pg_connection.hpp"
#include "driver/sqlite/sqlite_connection.hpp"

namespace corm::driver {

std::unique_ptr<Connection> connect(const Url& url, const ConnectOptions& options) {
  switch (url.dialect()) {
    case Dialect::postgresql: return postgres::PgConnection::connect_blocking(url, options);
    case Dialect::sqlite: return sqlite::connect(url, options);
    case Dialect::mysql: return mysql::connect(url, options);
  }
  return nullptr;
}

void validate(const Url& url, const ConnectOptions& options) {
  switch (url.dialect()) {
    case Dialect::postgresql: postgres::validate(url, options); break;
    case Dialect::sqlite: sqlite::validate(url, options); break;
    case Dialect::mysql: mysql::validate(url, options); break;
  }
}

}  // namespace corm::driver

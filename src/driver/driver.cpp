// Dispatch from a URL's dialect to its driver: the one place that knows every driver. A driver
// left out of the build (CORM_WITH_POSTGRESQL / CORM_WITH_SQLITE / CORM_WITH_MYSQL=OFF) is
// rejected here, when the engine is created, rather than failing at link time or first connect.
#include "corm/driver/driver_connection.hpp"

#include <string>

#include "corm/core/error.hpp"

#if CORM_WITH_MYSQL
#include "driver/mysql/mysql_connection.hpp"
#endif
#if CORM_WITH_POSTGRESQL
#include "driver/postgres/pg_connection.hpp"
#endif
#if CORM_WITH_SQLITE
#include "driver/sqlite/sqlite_connection.hpp"
#endif

namespace corm::driver {

namespace {
// Unused when every driver is built.
[[noreturn, maybe_unused]] void throw_not_built(const Url& url, const char* option) {
  const std::string name(dialect_traits(url.dialect()).name);
  throw ConfigError("corm was built without " + name + " support (" + option + "=OFF), so a " + name +
                    ":// URL cannot be used; rebuild corm with -D" + option + "=ON");
}
}  // namespace

std::unique_ptr<Connection> connect(const Url& url, const ConnectOptions& options) {
  switch (url.dialect()) {
#if CORM_WITH_POSTGRESQL
    case Dialect::postgresql: return postgres::PgConnection::connect_blocking(url, options);
#else
    case Dialect::postgresql: throw_not_built(url, "CORM_WITH_POSTGRESQL");
#endif
#if CORM_WITH_SQLITE
    case Dialect::sqlite: return sqlite::connect(url, options);
#else
    case Dialect::sqlite: throw_not_built(url, "CORM_WITH_SQLITE");
#endif
#if CORM_WITH_MYSQL
    case Dialect::mysql: return mysql::connect(url, options);
#else
    case Dialect::mysql: throw_not_built(url, "CORM_WITH_MYSQL");
#endif
  }
  return nullptr;
}

void validate(const Url& url, const ConnectOptions& options) {
  switch (url.dialect()) {
#if CORM_WITH_POSTGRESQL
    case Dialect::postgresql: postgres::validate(url, options); break;
#else
    case Dialect::postgresql: throw_not_built(url, "CORM_WITH_POSTGRESQL");
#endif
#if CORM_WITH_SQLITE
    case Dialect::sqlite: sqlite::validate(url, options); break;
#else
    case Dialect::sqlite: throw_not_built(url, "CORM_WITH_SQLITE");
#endif
#if CORM_WITH_MYSQL
    case Dialect::mysql: mysql::validate(url, options); break;
#else
    case Dialect::mysql: throw_not_built(url, "CORM_WITH_MYSQL");
#endif
  }
}

}  // namespace corm::driver

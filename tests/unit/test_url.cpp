#include <catch2/catch.hpp>

#include "corm/core/error.hpp"
#include "corm/core/url.hpp"

using corm::ConfigError;
using corm::Dialect;
using corm::Url;
using Catch::Matchers::Contains;

namespace {
// The ConfigError message for `text`; fails the test when parsing succeeds.
std::string parse_error(std::string_view text) {
  try {
    (void)Url::parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected ConfigError for " << text);
  return {};
}
}  // namespace

TEST_CASE("url parsing reads every part of a PostgreSQL URL, percent-decoded", "[url]") {
  const auto u = Url::parse("postgresql://app%40corp:p%40ss%3Aw0rd@db.example.com:6432/orders?application_name=svc&connect_timeout=5");
  CHECK(u.dialect() == Dialect::postgresql);
  CHECK(u.scheme() == "postgresql");
  CHECK(u.username() == "app@corp");
  CHECK(u.has_password());
  CHECK(u.password() == "p@ss:w0rd");
  CHECK(u.host() == "db.example.com");
  CHECK(u.port() == 6432);
  CHECK(u.database() == "orders");
  CHECK(u.query().at("application_name") == "svc");
  CHECK(u.query().at("connect_timeout") == "5");
  CHECK_FALSE(u.is_memory());
}

TEST_CASE("url parsing accepts every PostgreSQL scheme spelling", "[url]") {
  for (const char* s : {"postgresql://h/db", "postgres://h/db", "postgresql+libpq://h/db", "POSTGRESQL://h/db"}) {
    INFO(s);
    CHECK(Url::parse(s).dialect() == Dialect::postgresql);
  }
  CHECK(Url::parse("postgres://h/db").scheme() == "postgres");
}

TEST_CASE("url parsing leaves host, port, user and database empty when the URL omits them", "[url]") {
  const auto u = Url::parse("postgresql:///mydb?host=/var/run/postgresql");
  CHECK(u.host().empty());
  CHECK_FALSE(u.port().has_value());
  CHECK(u.username().empty());
  CHECK_FALSE(u.has_password());
  CHECK(u.database() == "mydb");
  CHECK(u.query().at("host") == "/var/run/postgresql");
  const auto bare = Url::parse("postgresql://");
  CHECK(bare.host().empty());
  CHECK(bare.database().empty());
  const auto user_only = Url::parse("postgresql://bob@localhost/db");
  CHECK(user_only.username() == "bob");
  CHECK_FALSE(user_only.has_password());
  CHECK(Url::parse("postgresql://bob:@h/db").has_password());
  CHECK(Url::parse("postgresql://bob:@h/db").password().empty());
}

TEST_CASE("url parsing handles IPv6 hosts and a percent-encoded socket directory as host", "[url]") {
  const auto v6 = Url::parse("postgresql://u@[::1]:5433/db");
  CHECK(v6.host() == "::1");
  CHECK(v6.port() == 5433);
  CHECK(Url::parse(v6.str()).host() == "::1");
  const auto sock = Url::parse("postgresql://u@%2Fvar%2Frun%2Fpostgresql/db");
  CHECK(sock.host() == "/var/run/postgresql");
  CHECK(Url::parse(sock.str()).host() == "/var/run/postgresql");
}

TEST_CASE("url parsing follows SQLAlchemy's rules for SQLite paths and memory databases", "[url][sqlite]") {
  CHECK(Url::parse("sqlite://").is_memory());
  CHECK(Url::parse("sqlite://").database().empty());
  CHECK(Url::parse("sqlite:///:memory:").is_memory());
  CHECK(Url::parse("sqlite:///:memory:").database() == ":memory:");
  const auto rel = Url::parse("sqlite:///relative.db");
  CHECK(rel.dialect() == Dialect::sqlite);
  CHECK(rel.database() == "relative.db");
  CHECK_FALSE(rel.is_memory());
  CHECK(Url::parse("sqlite:///data/app.db").database() == "data/app.db");
  CHECK(Url::parse("sqlite:////abs/path.db").database() == "/abs/path.db");
  CHECK(Url::parse("sqlite3:////tmp/x%20y.db").database() == "/tmp/x y.db");
  CHECK(Url::parse("sqlite:///app.db?mode=ro").query().at("mode") == "ro");
}

TEST_CASE("url parsing reads MySQL and MariaDB URLs as SQLAlchemy users write them", "[url][mysql]") {
  for (const char* scheme : {"mysql", "mariadb", "mysql+aiomysql", "mysql+asyncmy", "mysql+pymysql", "MySQL"}) {
    const Url u = Url::parse(std::string(scheme) + "://app:s%40cret@db.local:3307/shop?charset=utf8mb4");
    CHECK(u.dialect() == Dialect::mysql);
    CHECK(u.username() == "app");
    CHECK(u.password() == "s@cret");
    CHECK(u.host() == "db.local");
    CHECK(u.port() == 3307);
    CHECK(u.database() == "shop");
    CHECK(u.query().at("charset") == "utf8mb4");
  }
  const Url sock = Url::parse("mysql://app@localhost/shop?unix_socket=/run/mysqld/mysqld.sock");
  CHECK(sock.query().at("unix_socket") == "/run/mysqld/mysqld.sock");
  CHECK(Url::parse("mysql://app:pw@h/db").str() == "mysql://app:***@h/db");
}

TEST_CASE("url parsing rejects a SQLite URL with a host, user or port", "[url][sqlite]") {
  CHECK_THAT(parse_error("sqlite://relative.db"), Contains("sqlite:///relative.db"));
  CHECK_THROWS_AS(Url::parse("sqlite://user@/x.db"), ConfigError);
}

TEST_CASE("url parsing names an unsupported database or driver", "[url]") {
  CHECK(parse_error("oracle://u:p@h/db") ==
        "unsupported database 'oracle' in URL; corm supports postgresql://, mysql:// (or mariadb://) and sqlite://");
  CHECK_THAT(parse_error("mssql+pyodbc://u@h/db"), Contains("'mssql'"));
  CHECK_THAT(parse_error("postgresql+asyncpg://u@h/db"), Contains("'asyncpg'") && Contains("postgresql://"));
}

TEST_CASE("url parsing rejects empty text, a missing scheme or '://' and bad scheme characters", "[url]") {
  CHECK_THAT(parse_error(""), Contains("empty"));
  CHECK_THAT(parse_error("localhost/db"), Contains("no scheme"));
  CHECK_THAT(parse_error("://h/db"), Contains("no scheme"));
  CHECK_THAT(parse_error("postgresql:/h/db"), Contains("no '//'"));
  CHECK_THAT(parse_error("sqlite:app.db"), Contains("no '//'"));
  CHECK_THAT(parse_error("post gres://h/db"), Contains("invalid scheme 'post gres'"));
  CHECK_THAT(parse_error("1pg://h/db"), Contains("invalid scheme"));
}

TEST_CASE("url parsing rejects a non-numeric port and never shows the password", "[url][password]") {
  const auto msg = parse_error("postgresql://admin:s3cret@db:54x2/app");
  CHECK_THAT(msg, Contains("port '54x2'"));
  CHECK_THAT(msg, Contains("admin:***@db"));
  CHECK_THAT(msg, !Contains("s3cret"));
}

TEST_CASE("url parsing rejects ports outside 1..65535 naming the port", "[url]") {
  CHECK_THAT(parse_error("postgresql://u:s3cret@h:0/db"), Contains("port 0") && !Contains("s3cret"));
  CHECK_THAT(parse_error("postgresql://u@h:65536/db"), Contains("port 65536") && Contains("65535"));
  CHECK_THAT(parse_error("postgresql://u@h:99999999999/db"), Contains("out of range"));
  CHECK_THAT(parse_error("postgresql://u@h:/db"), Contains("empty port"));
  CHECK(Url::parse("postgresql://u@h:65535/db").port() == 65535);
  CHECK(Url::parse("postgresql://u@h:1/db").port() == 1);
}

TEST_CASE("malformed URLs say which part is wrong and never contain the password", "[url][password]") {
  struct Case {
    const char* url;
    const char* part;
  };
  for (const Case& c : {
           Case{"postgresql://admin:s3cret@db:5432/app%zz", "invalid percent-escape '%zz' in the path"},
           Case{"postgresql://admin:s3cret@db:5432/app?x=%4", "in the query"},
           Case{"postgresql://ad min:s3cret@db/app", "in the user name"},
           Case{"postgresql://admin:s3cret@d b/app", "in the host"},
           Case{"postgresql://admin:s3cret@db/a pp", "in the path"},
           Case{"postgresql://admin:s3cret@db/app#frag", "fragment"},
           Case{"postgresql://admin:s3cret%@db/app", "password"},
           Case{"postgresql://admin:s3c ret@db/app", "password"},
           Case{"postgresql://admin:s3cr@et@db/app", "password"},
           Case{"postgresql://admin:s3/cret@db:5432/app", "percent-encoded"},
           Case{"postgresql://admin:s3cret?x@db/app", "percent-encoded"},
           Case{"postgresql://admin:s3cret@[::1/app", "IPv6"},
           Case{"postgresql://admin:s3cret@db:5432/app?a=1&a=2", "given twice"},
       }) {
    INFO(c.url);
    const auto msg = parse_error(c.url);
    CHECK_THAT(msg, Contains(c.part));
    CHECK_THAT(msg, !Contains("s3cret") && !Contains("s3c") && !Contains("cret"));
  }
}

TEST_CASE("str masks the password; str_with_password shows it; both parse back", "[url][password]") {
  const auto u = Url::parse("postgresql://bob:s3cr%2Ft@localhost:5432/app?sslmode=require");
  CHECK(u.str() == "postgresql://bob:***@localhost:5432/app?sslmode=require");
  CHECK(u.str_with_password() == "postgresql://bob:s3cr%2Ft@localhost:5432/app?sslmode=require");
  const auto back = Url::parse(u.str_with_password());
  CHECK(back.password() == "s3cr/t");
  CHECK(back.username() == "bob");
  CHECK(back.query() == u.query());
  CHECK(Url::parse("postgresql://bob@h/db").str() == "postgresql://bob@h/db");
}

TEST_CASE("rendering a SQLite URL gives back SQLAlchemy's spelling", "[url][sqlite]") {
  CHECK(Url::parse("sqlite://").str() == "sqlite://");
  CHECK(Url::parse("sqlite:///:memory:").str() == "sqlite:///:memory:");
  CHECK(Url::parse("sqlite:///relative.db").str() == "sqlite:///relative.db");
  CHECK(Url::parse("sqlite:////abs/path.db").str() == "sqlite:////abs/path.db");
  CHECK(Url::parse("sqlite:////tmp/x%20y.db").str() == "sqlite:////tmp/x%20y.db");
}

TEST_CASE("with_database and with_query return modified copies", "[url]") {
  const auto u = Url::parse("postgresql://u:pw@h/one");
  const auto v = u.with_database("two").with_query("application_name", "a b&c");
  CHECK(u.database() == "one");
  CHECK(u.query().empty());
  CHECK(v.database() == "two");
  CHECK(v.query().at("application_name") == "a b&c");
  CHECK(v.password() == "pw");
  const auto back = Url::parse(v.str_with_password());
  CHECK(back.query().at("application_name") == "a b&c");
  CHECK(back.database() == "two");
  CHECK(Url::parse("sqlite://").with_database("/tmp/a.db").str() == "sqlite:////tmp/a.db");
}

TEST_CASE("url parsing reads a host list for PostgreSQL and MySQL; host() and port() are the first", "[url][hosts]") {
  using HP = Url::HostPort;
  const auto pg = Url::parse("postgresql://u:pw@h1:5432,h2:5433,[::1]:5434/db?target_session_attrs=read-write");
  CHECK(pg.host() == "h1");
  CHECK(pg.port() == 5432);
  CHECK(pg.hosts() == std::vector<HP>{HP{"h1", 5432}, HP{"h2", 5433}, HP{"::1", 5434}});
  CHECK(pg.database() == "db");
  CHECK(pg.password() == "pw");
  CHECK(pg.str() == "postgresql://u:***@h1:5432,h2:5433,[::1]:5434/db?target_session_attrs=read-write");
  CHECK(Url::parse(pg.str_with_password()).hosts() == pg.hosts());
  CHECK(pg.with_database("other").hosts() == pg.hosts());

  const auto my = Url::parse("mariadb://app@db1,db2:3307,10.0.0.3/shop");
  CHECK(my.dialect() == Dialect::mysql);
  CHECK(my.hosts() == std::vector<HP>{HP{"db1", std::nullopt}, HP{"db2", 3307}, HP{"10.0.0.3", std::nullopt}});
  CHECK(my.str() == "mariadb://app@db1,db2:3307,10.0.0.3/shop");
  CHECK(Url::parse("mysql://u@[::1],[fe80::2]:3307/d").hosts() ==
        std::vector<HP>{HP{"::1", std::nullopt}, HP{"fe80::2", 3307}});

  CHECK(Url::parse("postgresql://u@h:5432/db").hosts() == std::vector<HP>{HP{"h", 5432}});
  CHECK(Url::parse("postgresql:///db").hosts().empty());
}

TEST_CASE("url parsing rejects a bad host list saying which host is wrong, never showing the password",
          "[url][hosts][password]") {
  struct Case {
    const char* url;
    const char* part;
  };
  for (const Case& c : {
           Case{"postgresql://u:s3cret@h1:5432,,h3/db", "empty host 2 of the host list"},
           Case{"postgresql://u:s3cret@h1:5432,/db", "empty host 2 of the host list"},
           Case{"postgresql://u:s3cret@,h2/db", "empty host 1 of the host list"},
           Case{"postgresql://u:s3cret@h1,h2:54x2/db", "invalid port '54x2'"},
           Case{"postgresql://u:s3cret@h1,h2:70000/db", "port 70000 is out of range"},
           Case{"postgresql://u:s3cret@h1,h2:/db", "empty port"},
           Case{"mysql://u:s3cret@h1:99999,h2/db", "port 99999 is out of range"},
           Case{"mysql://u:s3cret@h1,h 2/db", "invalid character ' ' in host 2 of the host list"},
           Case{"mysql://u:s3cret@h1,[::1/db", "invalid IPv6 address in host 2 of the host list"},
           Case{"mysql://u:s3cret@h1,:3306/db", "empty host 2 of the host list"},
           Case{"sqlite://a,b/x.db", "SQLite URL has no host list"},
       }) {
    INFO(c.url);
    const auto msg = parse_error(c.url);
    CHECK_THAT(msg, Contains(c.part));
    CHECK_THAT(msg, !Contains("s3cret"));
  }
}

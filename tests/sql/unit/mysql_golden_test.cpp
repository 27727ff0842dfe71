// Golden SQL for MySQL / MariaDB: backtick quoting, positional `?` (a value used twice is bound
// twice), IN lists, LIMIT/OFFSET, locking clauses, upserts and DDL types. No server needed.

#include <catch2/catch.hpp>

#include "corm/sql/schema/ddl.hpp"
#include "corm/sql/text.hpp"
#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;

namespace {
template <class S>
std::string my_sql(const S& s) {
  return *s.compile(Dialect::mysql).sql;
}
}  // namespace

TEST_CASE("mysql quotes identifiers with backticks, doubling embedded backticks", "[sql][mysql]") {
  CHECK(quote_identifier(Dialect::mysql, "user") == "`user`");
  CHECK(quote_identifier(Dialect::mysql, "we`ird \"name\"") == "`we``ird \"name\"`");
  CHECK(dialect_name(Dialect::mysql) == "mysql");
  CHECK_FALSE(dialect_traits(Dialect::mysql).numbered_placeholders);
  CHECK_FALSE(dialect_traits(Dialect::mysql).supports_update_returning);
  CHECK_FALSE(dialect_traits(Dialect::mysql).transactional_ddl);
}

TEST_CASE("mysql text() binds a parameter used twice twice, in order of appearance", "[sql][mysql][text]") {
  auto t = text("SELECT * FROM t WHERE a = :x OR b = :y OR c = :x");
  Compiled c = t.compile(Dialect::mysql, {{"x", 1}, {"y", "two"}});
  CHECK(*c.sql == "SELECT * FROM t WHERE a = ? OR b = ? OR c = ?");
  CHECK(c.params == std::vector<Value>{Value(std::int64_t{1}), Value("two"), Value(std::int64_t{1})});
  // The other dialects still bind it once and reference it by number.
  CHECK(*t.compile(Dialect::postgresql, {{"x", 1}, {"y", "two"}}).sql == "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $1");
  // A ':' inside a backtick-quoted identifier is not a bind.
  CHECK(text("SELECT `a:b` FROM t").bind_names().empty());
}

TEST_CASE("mysql select: IN lists, LIMIT and OFFSET, ILIKE, NULLS LAST, integer division", "[sql][mysql][select]") {
  auto s = select<Book>()
               .where(col(&Book::id).in_(std::vector<std::int64_t>{1, 2, 3}) && col(&Book::title).ilike("d%"))
               .order_by(desc(&Book::pages).nulls_last())
               .limit(10)
               .offset(20);
  CHECK(my_sql(s) ==
        "SELECT `books`.`id`, `books`.`author_id`, `books`.`title`, `books`.`pages`, `books`.`version` FROM `books` "
        "WHERE `books`.`id` IN (?, ?, ?) AND LOWER(`books`.`title`) LIKE LOWER(?) "
        "ORDER BY `books`.`pages` IS NULL, `books`.`pages` DESC LIMIT ? OFFSET ?");
  CHECK(s.compile(Dialect::mysql).params.size() == 6);
  // OFFSET alone still needs a LIMIT on MySQL.
  CHECK(my_sql(select<Tag>().offset(5)) == "SELECT `tags`.`id`, `tags`.`label` FROM `tags` LIMIT 18446744073709551615 OFFSET ?");
  // An empty list matches nothing (IN) or everything (NOT IN), as on PostgreSQL.
  CHECK(my_sql(select<Tag>().where(col(&Tag::id).in_(std::vector<std::int64_t>{}))) ==
        "SELECT `tags`.`id`, `tags`.`label` FROM `tags` WHERE (`tags`.`id` IS NULL AND 1 = 0)");
  CHECK(my_sql(select((col(&Book::pages) * 2) / 4)) == "SELECT `books`.`pages` * ? DIV ? FROM `books`");
}

TEST_CASE("mysql writes a limited IN subquery as a derived table, which MySQL accepts", "[sql][mysql][select]") {
  // `IN (SELECT ... LIMIT ?)` fails on MySQL and MariaDB ("doesn't yet support 'LIMIT &
  // IN/ALL/ANY/SOME subquery'"); subqueryload under a limited query sends exactly that.
  auto limited = select(col(&Author::name)).where(
      col(&Author::id).in_(select(col(&Book::author_id)).order_by(col(&Book::id)).limit(3).offset(1)));
  CHECK(my_sql(limited) ==
        "SELECT `authors`.`name` FROM `authors` WHERE `authors`.`id` IN (SELECT * FROM "
        "(SELECT `books`.`author_id` FROM `books` ORDER BY `books`.`id` LIMIT ? OFFSET ?) AS `corm_in`)");
  CHECK(limited.compile(Dialect::mysql).params.size() == 2);
  // Without LIMIT / OFFSET, and on the other dialects, the subquery stays as written.
  CHECK(my_sql(select(col(&Author::name)).where(col(&Author::id).not_in(select(col(&Book::author_id))))) ==
        "SELECT `authors`.`name` FROM `authors` WHERE `authors`.`id` NOT IN (SELECT `books`.`author_id` "
        "FROM `books`)");
  CHECK(*limited.compile(Dialect::postgresql).sql ==
        "SELECT \"authors\".\"name\" FROM \"authors\" WHERE \"authors\".\"id\" IN (SELECT "
        "\"books\".\"author_id\" FROM \"books\" ORDER BY \"books\".\"id\" LIMIT $1 OFFSET $2)");
}

TEST_CASE("mysql locking reads: FOR UPDATE, NOWAIT, SKIP LOCKED", "[sql][mysql][lock]") {
  CHECK(my_sql(select<Tag>().with_for_update()) == "SELECT `tags`.`id`, `tags`.`label` FROM `tags` FOR UPDATE");
  CHECK(my_sql(select<Tag>().with_for_update(nowait)) == "SELECT `tags`.`id`, `tags`.`label` FROM `tags` FOR UPDATE NOWAIT");
  CHECK(my_sql(select<Tag>().limit(1).with_for_update(skip_locked)) ==
        "SELECT `tags`.`id`, `tags`.`label` FROM `tags` LIMIT ? FOR UPDATE SKIP LOCKED");
}

TEST_CASE("mysql shared locking reads are LOCK IN SHARE MODE, which MariaDB and MySQL 8 both take",
          "[sql][mysql][lock]") {
  CHECK(my_sql(select<Tag>().with_for_update(for_share)) ==
        "SELECT `tags`.`id`, `tags`.`label` FROM `tags` LOCK IN SHARE MODE");
  CHECK(my_sql(select<Tag>().with_for_update(for_share, nowait)) ==
        "SELECT `tags`.`id`, `tags`.`label` FROM `tags` LOCK IN SHARE MODE NOWAIT");
  // A shared and an exclusive lock are different statements in the compiled-statement cache.
  CHECK(my_sql(select<Tag>().with_for_update()) != my_sql(select<Tag>().with_for_update(for_share)));
}

TEST_CASE("mysql upserts are ON DUPLICATE KEY UPDATE", "[sql][mysql][upsert]") {
  auto ins = insert<Tag>().values(set(&Tag::label, "x"));
  CHECK(my_sql(ins.on_conflict(&Tag::label).do_update(&Tag::label)) ==
        "INSERT INTO `tags` (`label`) VALUES (?) ON DUPLICATE KEY UPDATE `label` = VALUES(`label`)");
  CHECK(my_sql(ins.on_conflict_do_nothing()) == "INSERT INTO `tags` (`label`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = `id`");
  CHECK(my_sql(insert<Tag>().values(std::vector<Tag>{{0, "a"}, {0, "b"}}).returning_all()) ==
        "INSERT INTO `tags` (`label`) VALUES (?), (?) RETURNING `id`, `label`");
  CHECK_THROWS_WITH(my_sql(update<Tag>().set(&Tag::label, "y").returning_all()),
                    Catch::Contains("UPDATE ... RETURNING is not available on mysql"));
}

TEST_CASE("mysql DDL: AUTO_INCREMENT, exact types, InnoDB and utf8mb4", "[sql][mysql][ddl]") {
  CHECK(sql_type_name(Dialect::mysql, ColumnType::boolean) == "TINYINT(1)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::timestamp) == "DATETIME(6)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::decimal, 0, 12, 2) == "DECIMAL(12,2)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::decimal) == "DECIMAL(65,30)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::text, 100) == "VARCHAR(100)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::text) == "LONGTEXT");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::bytes, 16) == "VARBINARY(16)");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::bytes) == "LONGBLOB");
  CHECK(sql_type_name(Dialect::mysql, ColumnType::json) == "JSON");
  const auto a = create_table_sql(Dialect::mysql, table_info<Author>());
  CHECK(a[0] ==
        "CREATE TABLE IF NOT EXISTS `authors` (`id` BIGINT NOT NULL AUTO_INCREMENT, `name` VARCHAR(100) NOT NULL, "
        "`email` VARCHAR(200), CONSTRAINT `pk_authors` PRIMARY KEY (`id`), CONSTRAINT `uq_authors_email` UNIQUE "
        "(`email`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
}

namespace {
struct Note {
  std::int64_t id{};
  std::string body;
};
}  // namespace

template <>
struct corm::Model<Note> {
  static constexpr auto table = corm::table("notes", corm::column("id", &Note::id, corm::primary_key),
                                            corm::column("body", &Note::body, corm::indexed));
};

TEST_CASE("mysql refuses an index on a string without a length, saying what to declare", "[sql][mysql][ddl]") {
  try {
    (void)create_table_sql(Dialect::mysql, table_info<Note>());
    FAIL("an indexed unbounded string must be refused on MySQL");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("notes.body") && Catch::Contains("corm::max_length(n)"));
  }
  CHECK_NOTHROW(create_table_sql(Dialect::postgresql, table_info<Note>()));
}

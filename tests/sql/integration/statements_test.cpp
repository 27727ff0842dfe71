// Every statement construct executed against the real database, with checked results.

#include <catch2/catch.hpp>

#include <algorithm>

#include "sql/integration/sql_db.hpp"

using namespace corm;
using namespace corm::test_models;
using corm::test::SqlDb;

namespace {
// Three authors; Ann has three books (one without pages), Bob one, Cy none.
struct Library {
  std::int64_t ann = 0, bob = 0, cy = 0;
  explicit Library(SqlDb& db) {
    auto ids = db.all(insert<Author>()
                          .values(std::vector<Author>{{0, "Ann", "ann@x", {}, {}}, {0, "Bob", std::nullopt, {}, {}},
                                                      {0, "Cy", "cy@x", {}, {}}})
                          .returning(col(&Author::id)));
    REQUIRE(ids.size() == 3);
    ann = std::get<0>(ids[0]);
    bob = std::get<0>(ids[1]);
    cy = std::get<0>(ids[2]);
    db.conn.execute(insert<Book>()
                        .values(set(&Book::author_id, ann), set(&Book::title, "Alpha"), set(&Book::pages, 100))
                        .values(set(&Book::author_id, ann), set(&Book::title, "Beta"), set(&Book::pages, 250))
                        .values(set(&Book::author_id, ann), set(&Book::title, "Gamma"),
                                set(&Book::pages, std::optional<int>{}))
                        .values(set(&Book::author_id, bob), set(&Book::title, "Delta"), set(&Book::pages, 400)));
    db.conn.commit();
  }
};

std::vector<std::string> titles(SqlDb& db, const Select<Book>& s) {
  std::vector<std::string> out;
  for (const Book& b : db.all(s)) out.push_back(b.title);
  return out;
}
}  // namespace

TEST_CASE("insert returning and select of entities round-trip every column", "[sql][integration]") {
  SqlDb db;
  Library lib(db);
  auto books = db.all(select<Book>().where(col(&Book::author_id) == lib.ann).order_by(col(&Book::title)));
  REQUIRE(books.size() == 3);
  CHECK(books[0].title == "Alpha");
  CHECK(books[0].pages == std::optional<int>(100));
  CHECK(books[2].pages == std::nullopt);
  CHECK(books[0].version == 1);  // server default
  CHECK(books[0].id > 0);
  auto all = db.all(insert<Tag>().values(set(&Tag::label, "sf")).returning_all());
  REQUIRE(all.size() == 1);
  CHECK(all[0].label == "sf");
  CHECK(all[0].id > 0);
}

TEST_CASE("where operators, in_ of any length, like helpers and null tests", "[sql][integration]") {
  SqlDb db;
  Library lib(db);
  CHECK(titles(db, select<Book>().where(col(&Book::pages) > 150).order_by(col(&Book::id))) ==
        std::vector<std::string>{"Beta", "Delta"});
  CHECK(titles(db, select<Book>().where(col(&Book::pages).between(100, 250)).order_by(col(&Book::id))) ==
        std::vector<std::string>{"Alpha", "Beta"});
  CHECK(titles(db, select<Book>().where(col(&Book::pages).is_null())) == std::vector<std::string>{"Gamma"});
  CHECK(db.all(select<Book>().where(col(&Book::pages).is_not_null())).size() == 3);
  CHECK(titles(db, select<Book>().where(!(col(&Book::pages) < 300) || col(&Book::title) == "Alpha").order_by(col(&Book::id))) ==
        std::vector<std::string>{"Alpha", "Delta"});

  for (std::size_t n : {0u, 1u, 2u, 5u}) {
    std::vector<std::string> wanted{"Alpha", "Delta", "nope", "x", "y"};
    wanted.resize(n);
    auto got = db.all(select<Book>().where(col(&Book::title).in_(wanted)));
    CHECK(got.size() == std::min<std::size_t>(n, 2));
  }
  CHECK(db.all(select<Book>().where(col(&Book::pages).not_in({100, 250}))).size() == 1);  // NULL pages never match
  CHECK(db.all(select<Book>().where(col(&Book::title).not_in(std::vector<std::string>{}))).size() == 4);

  CHECK(titles(db, select<Book>().where(col(&Book::title).like("%ta")).order_by(col(&Book::id))) ==
        std::vector<std::string>{"Beta", "Delta"});
  CHECK(titles(db, select<Book>().where(col(&Book::title).not_like("%a"))).empty());
  CHECK(titles(db, select<Book>().where(col(&Book::title).ilike("ALPHA"))) == std::vector<std::string>{"Alpha"});
  CHECK(titles(db, select<Book>().where(col(&Book::title).startswith("Ga"))) == std::vector<std::string>{"Gamma"});
  CHECK(titles(db, select<Book>().where(col(&Book::title).endswith("lta"))) == std::vector<std::string>{"Delta"});
  CHECK(titles(db, select<Book>().where(col(&Book::title).contains("ph"))) == std::vector<std::string>{"Alpha"});
  CHECK(titles(db, select<Book>().where(col(&Book::title).icontains("PH"))) == std::vector<std::string>{"Alpha"});
}

TEST_CASE("like helpers match percent and underscore literally", "[sql][integration][hostile]") {
  SqlDb db;
  db.conn.execute(insert<Tag>().values(set(&Tag::label, "50% off")).values(set(&Tag::label, "500 off"))
                      .values(set(&Tag::label, "a_b")).values(set(&Tag::label, "axb")).values(set(&Tag::label, "c\\d")));
  auto labels = [&](const Expr<bool>& p) {
    std::vector<std::string> out;
    for (const Tag& t : db.all(select<Tag>().where(p).order_by(col(&Tag::label)))) out.push_back(t.label);
    return out;
  };
  CHECK(labels(col(&Tag::label).contains("0%")) == std::vector<std::string>{"50% off"});
  CHECK(labels(col(&Tag::label).contains("_")) == std::vector<std::string>{"a_b"});
  CHECK(labels(col(&Tag::label).startswith("c\\")) == std::vector<std::string>{"c\\d"});
  CHECK(labels(col(&Tag::label).like("a_b")) == std::vector<std::string>{"a_b", "axb"});
}

TEST_CASE("order, limit, offset, distinct", "[sql][integration]") {
  SqlDb db;
  Library lib(db);
  CHECK(titles(db, select<Book>().order_by(desc(&Book::title)).limit(2)) == std::vector<std::string>{"Gamma", "Delta"});
  CHECK(titles(db, select<Book>().order_by(asc(&Book::title)).limit(2).offset(1)) == std::vector<std::string>{"Beta", "Delta"});
  CHECK(titles(db, select<Book>().order_by(asc(&Book::title)).offset(3)) == std::vector<std::string>{"Gamma"});
  CHECK(titles(db, select<Book>().order_by(desc(&Book::pages).nulls_last())).back() == "Gamma");
  CHECK(titles(db, select<Book>().order_by(asc(&Book::pages).nulls_first())).front() == "Gamma");
  CHECK(titles(db, select<Book>().order_by(order_by_name<Book>("title", Direction::desc))).front() == "Gamma");
  CHECK(db.all(select(col(&Book::author_id)).distinct()).size() == 2);
}

TEST_CASE("aggregates, group by, having and scalar functions", "[sql][integration][func]") {
  SqlDb db;
  Library lib(db);
  auto p = col(&Book::pages);
  auto [n, n_pages, n_authors, total, lo, hi, mean] =
      db.all(select(count(), count(p), count_distinct(col(&Book::author_id)), sum(p), min(p), max(p), avg(p))).at(0);
  CHECK(n == 4);
  CHECK(n_pages == 3);
  CHECK(n_authors == 2);
  CHECK(total == std::optional<std::int64_t>(750));
  CHECK(lo == std::optional<int>(100));
  CHECK(hi == std::optional<int>(400));
  CHECK(mean.value() == Approx(250.0));

  auto per_author = db.all(select(col(&Book::author_id), count().label("n"))
                               .group_by(col(&Book::author_id))
                               .having(count() > 1));
  REQUIRE(per_author.size() == 1);
  CHECK(per_author[0] == std::make_tuple(lib.ann, std::int64_t{3}));

  auto row = db.all(select(lower(col(&Book::title)), upper(col(&Book::title)), coalesce(p, -1),
                           func<std::int64_t>("length", col(&Book::title)), p.cast<double>(), now())
                        .where(col(&Book::title) == "Gamma"))
                 .at(0);
  CHECK(std::get<0>(row) == "gamma");
  CHECK(std::get<1>(row) == "GAMMA");
  CHECK(std::get<2>(row) == -1);
  CHECK(std::get<3>(row) == 5);
  CHECK(std::get<4>(row) == std::nullopt);
  CHECK(std::get<5>(row) > Timestamp{});
  CHECK(db.all(select(sum(p)).where(p > 1000)).at(0) == std::make_tuple(std::optional<std::int64_t>{}));
  auto [id, id_plus, half] =
      db.all(select(col(&Book::id), col(&Book::id) + 1, (p * 2) / 4).where(col(&Book::title) == "Alpha")).at(0);
  CHECK(id_plus == id + 1);
  CHECK(half == std::optional<int>(50));
}

TEST_CASE("joins along relationships, inferred, explicit, outer and self", "[sql][integration][join]") {
  SqlDb db;
  Library lib(db);
  auto pairs = db.all(select(col(&Book::title), col(&Author::name)).join(&Book::author).order_by(col(&Book::title)));
  REQUIRE(pairs.size() == 4);
  CHECK(pairs[3] == std::make_tuple(std::string("Gamma"), std::string("Ann")));
  CHECK(db.all(select(col(&Author::name)).join<Book>().distinct()).size() == 2);
  // Columns of the outer-joined side can be NULL: select them only where they are not, or as optional.
  auto outer = db.all(select(col(&Author::name)).left_join(&Author::books).where(col(&Book::id).is_null()));
  REQUIRE(outer.size() == 1);
  CHECK(std::get<0>(outer[0]) == "Cy");
  auto all_outer = db.all(select(col(&Author::name), nullable(col(&Book::id))).left_join(&Author::books).order_by(col(&Author::name)));
  REQUIRE(all_outer.size() == 5);
  CHECK(std::get<1>(all_outer.back()) == std::nullopt);
  auto both = db.all(select<Book, Author>().join<Author>(col(&Book::author_id) == col(&Author::id) && col(&Author::name) == "Bob"));
  REQUIRE(both.size() == 1);
  CHECK(std::get<0>(both[0]).title == "Delta");
  CHECK(std::get<1>(both[0]).name == "Bob");
  CHECK(std::get<1>(both[0]).email == std::nullopt);

  auto boss_ids = db.all(insert<Employee>().values(set(&Employee::name, "Boss")).returning(col(&Employee::id)));
  std::int64_t boss = std::get<0>(boss_ids.at(0));
  db.conn.execute(insert<Employee>().values(set(&Employee::name, "Worker"), set(&Employee::boss_id, boss)));
  auto b = aliased<Employee>("boss");
  auto chain = db.all(select(col(&Employee::name), b.col(&Employee::name)).join(b, col(&Employee::boss_id) == b.col(&Employee::id)));
  REQUIRE(chain.size() == 1);
  CHECK(chain[0] == std::make_tuple(std::string("Worker"), std::string("Boss")));

  auto tag = std::get<0>(db.all(insert<Tag>().values(set(&Tag::label, "classic")).returning(col(&Tag::id))).at(0));
  auto alpha = std::get<0>(db.all(select(col(&Book::id)).where(col(&Book::title) == "Alpha")).at(0));
  db.conn.execute(insert<BookTag>().values(BookTag{alpha, tag}));
  auto tagged = db.all(select(col(&Book::title), col(&Tag::label)).join(&Book::tags));
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0] == std::make_tuple(std::string("Alpha"), std::string("classic")));
}

TEST_CASE("subqueries: scalar, in_, in FROM, exists", "[sql][integration][subquery]") {
  SqlDb db;
  Library lib(db);
  auto n_books = select(count()).where(col(&Book::author_id) == col(&Author::id)).scalar_subquery();
  auto counts = db.all(select(col(&Author::name), n_books.label("n")).order_by(col(&Author::name)));
  CHECK(counts == std::vector<std::tuple<std::string, std::int64_t>>{{"Ann", 3}, {"Bob", 1}, {"Cy", 0}});

  auto big = db.all(select(col(&Author::name)).where(col(&Author::id).in_(select(col(&Book::author_id)).where(col(&Book::pages) > 300))));
  CHECK(big == std::vector<std::tuple<std::string>>{{"Bob"}});
  CHECK(db.all(select(col(&Author::name)).where(col(&Author::id).not_in(select(col(&Book::author_id))))) ==
        std::vector<std::tuple<std::string>>{{"Cy"}});

  auto sq = select(col(&Book::author_id), count().label("n")).group_by(col(&Book::author_id)).subquery("per_author");
  auto joined = db.all(select(col(&Author::name), sq.c<std::int64_t>("n"))
                           .join(sq, sq.col(&Book::author_id) == col(&Author::id))
                           .where(sq.c<std::int64_t>("n") >= 1)
                           .order_by(col(&Author::name)));
  CHECK(joined == std::vector<std::tuple<std::string, std::int64_t>>{{"Ann", 3}, {"Bob", 1}});
  CHECK(db.all(select(sq.c<std::int64_t>("n")).where(sq.c<std::int64_t>("n") > 2)).size() == 1);

  auto with_books = db.all(select(col(&Author::name))
                               .where(exists(select(col(&Book::id)).where(col(&Book::author_id) == col(&Author::id))))
                               .order_by(col(&Author::name)));
  CHECK(with_books.size() == 2);
  CHECK(db.all(select(col(&Author::name)).where(not_exists(select(col(&Book::id)).where(col(&Book::author_id) == col(&Author::id))))) ==
        std::vector<std::tuple<std::string>>{{"Cy"}});
}

TEST_CASE("union removes duplicates and union_all keeps them", "[sql][integration][union]") {
  SqlDb db;
  Library lib(db);
  auto a = select(col(&Book::title)).where(col(&Book::pages) > 200);
  auto b = select(col(&Book::title)).where(col(&Book::title).like("%ta"));
  auto u = db.all(a.union_(b).order_by(col(&Book::title)));
  CHECK(u == std::vector<std::tuple<std::string>>{{"Beta"}, {"Delta"}});
  CHECK(db.all(union_all(a, b)).size() == 4);
  CHECK(db.all(union_all(a, b).order_by(desc(&Book::title)).limit(1)) == std::vector<std::tuple<std::string>>{{"Delta"}});
}

TEST_CASE("update and delete report rowcount and return rows", "[sql][integration][dml]") {
  SqlDb db;
  Library lib(db);
  auto r = db.conn.execute(update<Book>().set(&Book::pages, col(&Book::pages) + 1).where(col(&Book::author_id) == lib.ann));
  CHECK(r.rowcount() == 3);
  auto omega = update<Book>().set(&Book::title, "Omega").where(col(&Book::title) == "Delta");
  if (test::is_mysql()) {
    // Neither MySQL nor MariaDB has UPDATE ... RETURNING: corm says so instead of sending it.
    CHECK_THROWS_WITH(db.conn.execute(omega.returning(col(&Book::title))),
                      Catch::Contains("UPDATE ... RETURNING is not available on mysql"));
    CHECK(db.conn.execute(omega).rowcount() == 1);
  } else {
    auto ret = db.all(omega.returning(col(&Book::title), col(&Book::pages)));
    CHECK(ret == std::vector<std::tuple<std::string, std::optional<int>>>{{"Omega", 400}});
  }
  auto deleted = db.all(delete_<Book>().where(col(&Book::pages) > 200).returning_all());
  REQUIRE(deleted.size() == 2);
  CHECK(db.conn.execute(delete_<Book>().where(col(&Book::author_id) == lib.cy)).rowcount() == 0);
  CHECK(db.all(select(count()).select_from<Book>()).at(0) == std::make_tuple(std::int64_t{2}));
  Tag t = db.all(insert<Tag>().values(set(&Tag::label, "x")).returning_all()).at(0);
  CHECK(db.conn.execute(update<Tag>().set(&Tag::label, "y").where_pk(t)).rowcount() == 1);
  CHECK(db.conn.execute(delete_<Tag>().where_pk(t)).rowcount() == 1);
}

TEST_CASE("upsert: do nothing and do update", "[sql][integration][upsert]") {
  SqlDb db;
  Library lib(db);
  auto ins = [&](int pages) {
    return insert<Book>().values(set(&Book::author_id, lib.bob), set(&Book::title, "Delta"), set(&Book::pages, pages));
  };
  // MySQL's do-nothing is ON DUPLICATE KEY UPDATE of a column to itself: with the found-rows
  // flag corm sets (an UPDATE counts the rows it matched, as on PostgreSQL) the existing row
  // counts as one.
  const std::int64_t untouched = test::is_mysql() ? 1 : 0;
  CHECK(db.conn.execute(ins(1).on_conflict_do_nothing()).rowcount() == untouched);
  CHECK(db.conn.execute(ins(1).on_conflict(&Book::author_id, &Book::title).do_nothing()).rowcount() == untouched);
  auto up = db.all(ins(555).on_conflict(&Book::author_id, &Book::title).do_update(&Book::pages).returning(col(&Book::pages)));
  CHECK(up == std::vector<std::tuple<std::optional<int>>>{{555}});
  auto add = db.all(ins(5).on_conflict(&Book::author_id, &Book::title)
                        .do_update_set(set(&Book::pages, coalesce(col(&Book::pages), 0) + excluded(&Book::pages)))
                        .returning(col(&Book::pages)));
  CHECK(add == std::vector<std::tuple<std::optional<int>>>{{560}});
  auto fresh = db.all(insert<Book>().values(set(&Book::author_id, lib.cy), set(&Book::title, "New"))
                          .on_conflict(&Book::author_id, &Book::title).do_update(&Book::pages).returning(col(&Book::title)));
  CHECK(fresh.size() == 1);
  CHECK(db.all(select(count()).select_from<Book>()).at(0) == std::make_tuple(std::int64_t{5}));
}

TEST_CASE("select for update runs (row locks on PostgreSQL, nothing to add on SQLite)", "[sql][integration][lock]") {
  SqlDb db;
  Library lib(db);
  CHECK(db.all(select<Book>().where(col(&Book::author_id) == lib.ann).with_for_update()).size() == 3);
  CHECK(db.all(select<Book>().limit(1).with_for_update(skip_locked)).size() == 1);
  CHECK(db.all(select<Book>().join(&Book::author).with_for_update(of<Book>(), nowait)).size() == 4);
  db.conn.commit();
}

TEST_CASE("hostile values round-trip verbatim and leave the tables intact", "[sql][integration][hostile]") {
  SqlDb db;
  const std::vector<std::string> hostile{"'); DROP TABLE books;--", "Robert'); DROP TABLE tags;--", "\"quoted\"",
                                         "back\\slash", "100% _wild_", "?1 $1 :name", "unicode ☃ ü"};
  for (const std::string& h : hostile) db.conn.execute(insert<Tag>().values(set(&Tag::label, h)));
  for (const std::string& h : hostile) {
    auto got = db.all(select(col(&Tag::label)).where(col(&Tag::label) == h));
    REQUIRE(got.size() == 1);
    CHECK(std::get<0>(got[0]) == h);
    CHECK(db.all(select(col(&Tag::label)).where(col(&Tag::label).contains(h))).size() == 1);
  }
  CHECK(db.all(select(col(&Tag::label)).where(col(&Tag::label).in_(hostile))).size() == hostile.size());
  db.conn.commit();
  CHECK(db.all(select(count()).select_from<Tag>()).at(0) == std::make_tuple(static_cast<std::int64_t>(hostile.size())));
  CHECK(db.all(select(count()).select_from<Book>()).at(0) == std::make_tuple(std::int64_t{0}));  // still exists

  db.conn.execute(insert<Odd>().values(Odd{1, "'); DROP TABLE \"odd \"\"table\"\"\";--"}));
  CHECK(db.all(select<Odd>()).at(0).value == "'); DROP TABLE \"odd \"\"table\"\"\";--");
}

TEST_CASE("an insert binding more values than the database takes is refused before it is sent",
          "[statements][insert][limits]") {
  SqlDb db;
  // 130,000 rows of two values: past PostgreSQL's 65,535 and SQLite's variable limit (Debian
  // builds it with 250,000).
  std::vector<Author> rows(130'000, Author{0, "Ann", std::nullopt, {}, {}});
  try {
    db.conn.execute(insert<Author>().values(rows));
    FAIL("the insert must be refused");
  } catch (const DataError& e) {
    CHECK_THAT(e.what(), Catch::Contains("a statement can bind at most"));
    CHECK_THAT(e.what(), Catch::Contains("split it into several statements in the same transaction"));
  }
  // Nothing reached the server: the connection and its transaction are as they were.
  rows.resize(1'000);
  db.conn.execute(insert<Author>().values(rows));
  CHECK(db.all(select(count()).select_from<Author>()).at(0) == std::make_tuple(std::int64_t{1'000}));
}

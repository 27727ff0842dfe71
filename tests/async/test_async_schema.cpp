// Schema operations on the async front: create_all / drop_all / inspect run every statement
// (a sync template would have dropped the awaitables and created nothing).
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/sql.hpp>

#include <algorithm>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

namespace corm::async_schema_test {
struct Shelf {
  std::int64_t id{};
  std::string label;
};
struct Note {
  std::int64_t id{};
  std::int64_t shelf_id{};
  std::string body;
};
}  // namespace corm::async_schema_test

template <>
struct corm::Model<corm::async_schema_test::Shelf> {
  using S = corm::async_schema_test::Shelf;
  static constexpr auto table = corm::table("async_schema_shelves", corm::column("id", &S::id, corm::primary_key),
                                            corm::column("label", &S::label));
};
template <>
struct corm::Model<corm::async_schema_test::Note> {
  using N = corm::async_schema_test::Note;
  static constexpr auto table = corm::table(
      "async_schema_notes", corm::column("id", &N::id, corm::primary_key),
      corm::column("shelf_id", &N::shelf_id, corm::references(&corm::async_schema_test::Shelf::id)),
      corm::column("body", &N::body));
};

using namespace corm;
using namespace corm::async_schema_test;
namespace asio = boost::asio;

namespace {
bool has_table(const std::vector<TableSchema>& tables, const std::string& name) {
  return std::any_of(tables.begin(), tables.end(), [&](const TableSchema& t) { return t.name == name; });
}
}  // namespace

TEST_CASE("async: create_all, inspect and drop_all run every statement on an AsyncConnection", "[async][schema]") {
  test::run_async([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    MetaData md;
    md.add<Shelf>().add<Note>();
    auto conn = co_await engine.connect();
    co_await create_all(conn, md);
    co_await conn.commit();

    // GCC 12 cannot keep a braced list alive across co_await: the names are a named vector.
    const std::vector<std::string> names{"async_schema_shelves", "async_schema_notes"};
    auto tables = co_await inspect(conn, names);
    CHECK(has_table(tables, "async_schema_shelves"));
    CHECK(has_table(tables, "async_schema_notes"));
    // Statements are named before co_await (GCC 12 and temporaries in a co_await expression).
    Shelf shelf{1, "fiction"};
    Note first{1, 1, "first"};
    auto add_shelf = insert<Shelf>().values(shelf);
    auto add_note = insert<Note>().values(first);
    auto count_notes = select(count()).select_from<Note>();
    co_await conn.execute(add_shelf);
    co_await conn.execute(add_note);
    co_await conn.commit();
    auto n = co_await conn.execute(count_notes);
    CHECK(n.scalar_one<std::int64_t>() == 1);

    co_await drop_all(conn, md);
    co_await conn.commit();
    tables = co_await inspect(conn, names);
    CHECK(tables.empty());
    co_await conn.close();
  });
}

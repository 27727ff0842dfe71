// The tutorial's program (docs/tutorial.md): two mapped classes with a relationship, an async
// engine, the schema, objects added and queried with an eager load, and two transactions — one
// that commits and one that rolls back. It uses the installed headers only.
//
//   tutorial [URL]      default: $DATABASE_URL, else the SQLite file tutorial.db
//
// Every run starts from empty tables: it drops and re-creates tutorial_authors and tutorial_books.

// [includes]
#include <corm/asyncio.hpp>  // the async front: engine, sessions, mapping, queries, transactional()

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
// [/includes]

// [model]
struct Book;

struct Author {
  std::int64_t id{};
  std::string name;
  corm::Many<Book> books;  // one-to-many: the books whose author_id is this author's id
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  int year{};
};

template <>
struct corm::Model<Author> {
  static constexpr auto table = corm::table(
      "tutorial_authors",
      corm::column("id", &Author::id, corm::primary_key, corm::identity),
      corm::column("name", &Author::name, corm::max_length(100), corm::unique),
      corm::has_many("books", &Author::books, &Book::author_id));
};

template <>
struct corm::Model<Book> {
  static constexpr auto table = corm::table(
      "tutorial_books",
      corm::column("id", &Book::id, corm::primary_key, corm::identity),
      corm::column("author_id", &Book::author_id, corm::references(&Author::id), corm::indexed),
      corm::column("title", &Book::title, corm::max_length(200)),
      corm::column("year", &Book::year));
};
// [/model]

// [schema]
asio::awaitable<void> create_schema(corm::AsyncEngine& engine) {
  corm::MetaData metadata;
  metadata.add<Author>().add<Book>();

  auto conn = co_await engine.connect();
  co_await corm::drop_all(conn, metadata);    // start from empty tables on every run
  co_await corm::create_all(conn, metadata);  // CREATE TABLE, parents before children
  co_await conn.commit();
  co_await conn.close();                      // back to the pool
}
// [/schema]

// [add]
asio::awaitable<void> add_authors(corm::AsyncEngine& engine) {
  corm::AsyncSession session(engine);

  auto le_guin = std::make_shared<Author>();
  le_guin->name = "Ursula K. Le Guin";
  session.add(le_guin);  // its books collection now reads as empty, ready to append to

  auto earthsea = std::make_shared<Book>();
  earthsea->title = "A Wizard of Earthsea";
  earthsea->year = 1968;
  le_guin->books.push_back(earthsea);  // added at flush with the author (save-update cascade)

  auto dispossessed = std::make_shared<Book>();
  dispossessed->title = "The Dispossessed";
  dispossessed->year = 1974;
  le_guin->books.push_back(dispossessed);

  auto lem = std::make_shared<Author>();
  lem->name = "Stanisław Lem";
  session.add(lem);
  auto solaris = std::make_shared<Book>();
  solaris->title = "Solaris";
  solaris->year = 1961;
  lem->books.push_back(solaris);

  co_await session.commit();  // INSERTs authors, then books with author_id filled in
  std::cout << "added " << le_guin->name << " (id " << le_guin->id << ") and " << lem->name << " (id "
            << lem->id << ")\n";
  co_await session.close();
}
// [/add]

// [query]
asio::awaitable<void> list_authors(corm::AsyncEngine& engine) {
  corm::AsyncSession session(engine);
  auto authors = co_await session.scalars(corm::select<Author>()
                                              .order_by(corm::col(&Author::name))
                                              .options(corm::selectinload(&Author::books)));
  for (const auto& author : authors) {
    std::cout << author->name << ":";
    for (const auto& book : author->books) std::cout << " " << book->title << " (" << book->year << ")";
    std::cout << "\n";
  }
  std::cout << "statements for the listing: " << session.stats().statements() << "\n";
  co_await session.close();
}
// [/query]

// [transactions]
asio::awaitable<void> run_transactions(corm::AsyncEngine& engine) {
  // A unit of work that commits: transactional() opens a session, begins, runs the work,
  // commits and closes.
  auto add_book = [](corm::AsyncSession& s) -> asio::awaitable<void> {
    auto lem = co_await s.scalars(corm::select<Author>().where(corm::col(&Author::name) == "Stanisław Lem"));
    auto book = std::make_shared<Book>();
    book->author_id = lem.at(0)->id;
    book->title = "The Cyberiad";
    book->year = 1965;
    s.add(book);
  };
  co_await corm::ext::transactional(engine, add_book);

  // A unit of work that fails: the second author's name is taken, so the commit raises
  // IntegrityError and nothing of the unit is kept — not even the first, valid author.
  auto add_two = [](corm::AsyncSession& s) -> asio::awaitable<void> {
    auto first = std::make_shared<Author>();
    first->name = "Octavia E. Butler";
    s.add(first);
    auto second = std::make_shared<Author>();
    second->name = "Ursula K. Le Guin";
    s.add(second);
    co_return;
  };
  std::string refused;
  try {
    co_await corm::ext::transactional(engine, add_two);
  } catch (const corm::IntegrityError& e) {
    refused = e.is_unique_violation() ? "unique violation" : "integrity error";
  }
  std::cout << "second unit rolled back: " << refused << "\n";

  // The same with an explicit transaction on a session of our own: begin(), change objects,
  // commit(). A plain assignment is tracked; the commit sends the UPDATE.
  corm::AsyncSession session(engine);
  auto tx = co_await session.begin();
  auto found = co_await session.scalars(corm::select<Book>().where(corm::col(&Book::title) == "Solaris"));
  found.at(0)->title = "Solaris (1961)";
  co_await tx.commit();

  auto authors = co_await session.scalars(corm::select<Author>());
  auto books = co_await session.scalars(corm::select<Book>().order_by(corm::col(&Book::id)));
  std::cout << "authors=" << authors.size() << " books=" << books.size() << " renamed=" << books.at(2)->title << "\n";
  co_await session.close();
}
// [/transactions]

// [main]
asio::awaitable<void> tutorial(corm::AsyncEngine engine) {
  co_await create_schema(engine);
  co_await add_authors(engine);
  co_await list_authors(engine);
  co_await run_transactions(engine);
}

int main(int argc, char** argv) try {
  std::string url = "sqlite:///tutorial.db";  // a file in the current directory
  if (const char* env = std::getenv("DATABASE_URL"); env != nullptr && *env != '\0') url = env;
  if (argc > 1) url = argv[1];

  asio::io_context io;
  auto engine = corm::create_async_engine(io.get_executor(), url);
  std::exception_ptr failure;
  asio::co_spawn(io, tutorial(engine), [&](std::exception_ptr e) { failure = e; });
  io.run();  // runs until the coroutine is done
  if (failure) std::rethrow_exception(failure);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tutorial failed: " << e.what() << "\n";
  return 1;
}
// [/main]

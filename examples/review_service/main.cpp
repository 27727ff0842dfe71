// A review service: users review products, each review with images. One routed session per
// request (reads to the replica, writes to the primary), units of work that commit whole or not
// at all, domain errors for integrity violations, a read-only computation that reuses one
// session, and a task group whose sessions commit together. Every step prints what it cost and
// which server answered, counted through engine events.
//
//   review_service                                   a SQLite file (writer = reader)
//   review_service --writer URL [--reader URL]       e.g. a primary and its streaming replica
//   review_service --writer-env VAR --reader-env VAR URLs from environment variables
//   review_service ... --load [COROUTINES]x[REQUESTS]   the load mode (default 64x1000)
//
// On PostgreSQL the tables live in a schema of the run's own, on MySQL in a database of its own;
// either is dropped at the end.

#include <corm/asyncio.hpp>
#include <corm/ext.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "reviews.hpp"

namespace asio = boost::asio;
using namespace reviews;
using corm::col;

namespace {

struct Options {
  std::string writer, reader;
  int coroutines = 0, requests = 0;  // load mode when coroutines > 0
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') throw std::runtime_error(std::string("environment variable ") + name + " is not set");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--writer") o.writer = next();
    else if (a == "--reader") o.reader = next();
    else if (a == "--writer-env") o.writer = env(next().c_str());
    else if (a == "--reader-env") o.reader = env(next().c_str());
    else if (a == "--load") {
      o.coroutines = 64;
      o.requests = 1000;
      if (i + 1 < argc && argv[i + 1][0] != '-') {
        const std::string v = argv[++i];
        const auto x = v.find('x');
        o.coroutines = std::stoi(v.substr(0, x));
        if (x != std::string::npos) o.requests = std::stoi(v.substr(x + 1));
      }
    } else {
      throw std::runtime_error("unknown argument " + a +
                               " (review_service [--writer URL] [--reader URL] [--load [CxR]])");
    }
  }
  if (o.reader.empty()) o.reader = o.writer;
  return o;
}

/// Statements an engine sent, transaction control (BEGIN, COMMIT, ...) left out.
struct StatementCount {
  std::shared_ptr<std::atomic<int>> n = std::make_shared<std::atomic<int>>(0);
  void watch(corm::AsyncEngine& engine) {
    engine.events().before_execute([c = n](const corm::StatementEvent& e) {
      for (std::string_view control : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "START"})
        if (e.sql.substr(0, control.size()) == control) return;
      ++*c;
    });
  }
  int take() { return n->exchange(0); }
};

/// Which server answers the session's reads. PostgreSQL tells a standby by pg_is_in_recovery(),
/// asked through the session (a select, so routed like any read). MySQL's read_only flag is a
/// server variable, not a function a select can call, so it is asked of the engine the session
/// routes reads to; the statement counts show the reads went there.
asio::awaitable<std::string> answered_by(corm::AsyncSession& s, corm::AsyncEngine& reader) {
  switch (reader.dialect()) {
    case corm::Dialect::postgresql: {
      auto r = co_await s.execute(corm::select(corm::func<bool>("pg_is_in_recovery")));
      co_return r.scalar_one<bool>() ? std::string("the standby") : std::string("the primary");
    }
    case corm::Dialect::mysql: {
      auto c = co_await reader.connect();
      auto r = co_await c.execute(corm::text("SELECT @@global.read_only, @@global.server_id"));
      co_await c.close();
      const auto row = r.one();
      co_return (row.get<std::int64_t>(0) != 0 ? std::string("the replica") : std::string("the primary")) +
          " (server_id " + std::to_string(row.get<std::int64_t>(1)) + ")";
    }
    default:
      co_return std::string("the one database file");
  }
}

template <class T>
asio::awaitable<std::int64_t> rows(corm::AsyncEngine& engine) {
  auto c = co_await engine.connect();
  auto r = co_await c.execute(corm::select(corm::count()).template select_from<T>());
  co_await c.close();
  co_return r.template scalar_one<std::int64_t>();
}

/// The replica has replayed the primary's work once it sees `n` rows of T (asynchronous
/// replication: a read right after a commit may not see it yet).
template <class T = Review>
asio::awaitable<void> wait_for_reader(corm::AsyncEngine& reader, std::int64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      if (co_await rows<T>(reader) >= n) co_return;
    } catch (const corm::ProgrammingError&) {
      // the schema has not reached the replica yet
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the reader did not catch up in 30 s");
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
  }
}

NewReview review_of(std::int64_t user, std::int64_t product, int stars, std::vector<std::string> images) {
  return NewReview{user, product, stars, "review of product " + std::to_string(product), std::move(images)};
}

asio::awaitable<void> scenario(corm::AsyncEngine writer, corm::AsyncEngine reader, bool one_engine) {
  StatementCount on_writer, on_reader;  // on one engine, every statement counts as the writer's
  on_writer.watch(writer);
  if (!one_engine) on_reader.watch(reader);
  auto sessions = corm::ext::AsyncSessionFactory::routed(writer, reader);
  ReviewService service(sessions);

  // Seed: two users, five products, in one transaction on the writer.
  co_await corm::ext::transactional(sessions, [](corm::AsyncSession& s) -> asio::awaitable<void> {
    for (const char* name : {"ann", "bob"}) {
      auto u = std::make_shared<User>();
      u->name = name;
      s.add(u);
    }
    for (int i = 1; i <= 5; ++i) {
      auto p = std::make_shared<Product>();
      p->title = "product " + std::to_string(i);
      s.add(p);
    }
    co_return;
  });

  // 1. A unit that creates a review with three images commits all four rows.
  // (Lists are named before a co_await: GCC 12 cannot keep a braced list alive across one.)
  const std::vector<std::string> three_images{"a.jpg", "b.jpg", "c.jpg"};
  on_writer.take();
  for (int p = 1; p <= 4; ++p)
    co_await service.create_review(review_of(1, p, 3 + p % 3, three_images));
  std::cout << "1. created 4 reviews with 3 images each: reviews=" << co_await rows<Review>(writer)
            << " images=" << co_await rows<ReviewImage>(writer) << "\n";

  // 2. All or nothing: an image without a URL rolls the whole review back.
  std::string refused;  // (no co_await inside a catch handler)
  try {
    const std::vector<std::string> one_without_url{"d.jpg", ""};
    co_await service.create_review(review_of(1, 5, 4, one_without_url));
  } catch (const InvalidReview& e) {
    refused = e.what();
  }
  std::cout << "2. invalid image (" << refused << "): rolled back, reviews=" << co_await rows<Review>(writer)
            << " images=" << co_await rows<ReviewImage>(writer) << "\n";

  // 3. The unique index's IntegrityError arrives as the domain's DuplicateReview.
  std::string duplicate = "none";
  try {
    co_await service.create_review(review_of(1, 1, 5, std::vector<std::string>()));
  } catch (const DuplicateReview& e) {
    duplicate = std::string("DuplicateReview: ") + e.what();
  }
  std::cout << "3. second review of product 1 -> " << duplicate << " (reviews=" << co_await rows<Review>(writer)
            << ")\n";

  // 4. The listing: one page, newest first, images eagerly loaded — two statements, on the reader.
  co_await wait_for_reader(reader, 4);
  on_writer.take();
  on_reader.take();
  auto page = co_await service.listing(1, 0, 3);
  std::size_t images = 0;
  for (const auto& r : page) images += r->images.size();
  const int listing_reader = on_reader.take(), listing_writer = on_writer.take();
  std::cout << "4. listing page 1: reviews=" << page.size() << " images=" << images
            << " statements=" << listing_reader + listing_writer << " (reader " << listing_reader << ", writer "
            << listing_writer << ")"
            << " newest first=" << (page.size() == 3 && page[0]->product_id == 4 && page[2]->product_id == 2 ? "yes" : "no")
            << "\n";
  {
    auto s = sessions.make();
    std::cout << "   reads answered by " << co_await answered_by(*s, reader) << "\n";
    co_await s->close();
  }

  // 5. Soft delete: the row stays, the listing no longer shows it.
  co_await service.remove(page[0]->id);
  co_await wait_for_reader(reader, 4);
  std::int64_t visible = 0;
  for (int attempt = 0; attempt < 1500; ++attempt) {  // the replica replays the flag asynchronously
    visible = static_cast<std::int64_t>((co_await service.listing(1, 0, 10)).size());
    if (visible == 3) break;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
  }
  std::cout << "5. soft-deleted one review: listed=" << visible << " rows=" << co_await rows<Review>(writer) << "\n";

  // 6. A read-only computation in one session: repeated product lookups hit the identity map.
  {
    corm::SessionOptions ro;
    ro.read_only = true;
    auto s = sessions.make(ro);
    on_writer.take();
    on_reader.take();
    const bool first = co_await service.qualifies(*s, 1, 3);
    const int cold = on_reader.take() + on_writer.take();
    const bool again = co_await service.qualifies(*s, 1, 3);
    const int warm = on_reader.take() + on_writer.take();
    std::cout << "6. qualification: trusted=" << (first && again ? "yes" : "no") << " statements first=" << cold
              << " again=" << warm << "\n";
    co_await s->close();
  }

  // 7. A task group: three tasks, each with its own routed session, commit together. The tasks
  // only add: their writes are flushed at the group's commit (SQLite has one writer at a time).
  corm::ext::TransactionalTaskGroup group(sessions);
  for (std::int64_t p = 1; p <= 3; ++p)
    group.spawn([p](corm::AsyncSession& s) -> asio::awaitable<void> {
      auto r = std::make_shared<Review>();
      r->user_id = 2;
      r->product_id = p;
      r->rating = 4;
      r->body = "from a task";
      r->created_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
      auto image = std::make_shared<ReviewImage>();
      image->url = "x.jpg";
      r->images.push_back(image);  // a new review's collection is empty and loaded
      s.add(r);
      co_return;
    });
  co_await group.run();
  std::cout << "7. task group of 3 committed together: reviews=" << co_await rows<Review>(writer) << "\n";
}

/// The load mode: `coroutines` concurrent clients, `requests` each, four listings to one create.
asio::awaitable<void> load(corm::AsyncEngine writer, corm::AsyncEngine reader, int coroutines, int requests) {
  auto sessions = corm::ext::AsyncSessionFactory::routed(writer, reader);
  ReviewService service(sessions);
  // One user per client; products enough for every create to be a new (user, product) pair.
  std::vector<std::int64_t> users;
  co_await corm::ext::transactional(sessions, [&](corm::AsyncSession& s) -> asio::awaitable<void> {
    std::vector<std::shared_ptr<User>> made;
    for (int i = 0; i < coroutines; ++i) {
      made.push_back(std::make_shared<User>());
      made.back()->name = "client " + std::to_string(i);
      s.add(made.back());
    }
    for (int i = 0; i < requests; ++i) {
      auto p = std::make_shared<Product>();
      p->title = "load product " + std::to_string(i);
      s.add(p);
    }
    co_await s.flush();
    for (auto& u : made) users.push_back(u->id);
  });
  co_await wait_for_reader<User>(reader, coroutines);  // the clients' first listings read the replica
  const std::int64_t before = co_await rows<Review>(writer);
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(coroutines) * static_cast<std::size_t>(requests));
  std::atomic<std::int64_t> created{0}, failed{0};
  int running = coroutines;
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t first_product = co_await rows<Product>(writer) - requests + 1;
  for (int c = 0; c < coroutines; ++c) {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < requests; ++i) {
            const auto start = std::chrono::steady_clock::now();
            try {
              if (i % 5 == 4) {
                const std::vector<std::string> image{"l.jpg"};
                co_await service.create_review(review_of(users[static_cast<std::size_t>(c)], first_product + i, 4, image));
                ++created;
              } else {
                (void)co_await service.listing(users[static_cast<std::size_t>(c)], 0, 10);
              }
            } catch (const std::exception& e) {
              ++failed;
              std::cerr << "request failed: " << e.what() << "\n";
            }
            latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          }
          --running;
        },
        asio::detached);
  }
  while (running > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
    co_await t.async_wait(asio::use_awaitable);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) { return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))]; };
  const std::int64_t stored = co_await rows<Review>(writer) - before;
  std::cout << "load: " << coroutines << " coroutines x " << requests << " requests: " << latencies.size() << " in "
            << seconds << " s, " << static_cast<long>(static_cast<double>(latencies.size()) / seconds) << " requests/s, p50="
            << pct(0.50) << " ms, p99=" << pct(0.99) << " ms\n";
  std::cout << "load: creates acknowledged=" << created.load() << " stored=" << stored
            << " lost=" << std::max<std::int64_t>(0, created.load() - stored)
            << " duplicated=" << std::max<std::int64_t>(0, stored - created.load()) << " failed=" << failed.load()
            << " checked out at the end=" << writer.pool_status().checked_out + reader.pool_status().checked_out << "\n";
  // What a /metrics endpoint would serve: the pools' counters in Prometheus text format.
  std::cout << "load: pool metrics (Prometheus text format)\n" << corm::to_prometheus(writer.pool_stats(), "writer_pool");
  if (reader.url().str() != writer.url().str()) std::cout << corm::to_prometheus(reader.pool_stats(), "reader_pool");
}

/// A place for this run's tables, removed at the end: a schema of its own on PostgreSQL, a
/// database of its own on MySQL (the replica follows both), a temp file for SQLite.
struct Place {
  std::string writer, reader, schema;
  corm::Dialect dialect = corm::Dialect::sqlite;
  std::filesystem::path dir;

  explicit Place(Options& o) {
    if (o.writer.empty()) {
      dir = std::filesystem::temp_directory_path() / ("corm-review-service-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      writer = reader = "sqlite:///" + (dir / "reviews.db").string();
      return;
    }
    writer = o.writer;
    reader = o.reader;
    dialect = corm::Url::parse(writer).dialect();
    if (dialect == corm::Dialect::sqlite) return;
    schema = "review_service_" + std::to_string(::getpid());
    run_on_writer((dialect == corm::Dialect::postgresql ? "CREATE SCHEMA " : "CREATE DATABASE ") +
                  corm::quote_identifier(dialect, schema));
    if (dialect == corm::Dialect::postgresql) {
      writer = corm::Url::parse(writer).with_query("options", "-c search_path=" + schema).str_with_password();
      reader = corm::Url::parse(reader).with_query("options", "-c search_path=" + schema).str_with_password();
    } else {
      const bool one_server = reader == writer;
      writer = corm::Url::parse(writer).with_database(schema).str_with_password();
      reader = corm::Url::parse(reader).with_database(schema).str_with_password();
      if (!one_server) wait_for_database_on_reader(o.reader);
    }
  }
  ~Place() {
    try {
      if (!schema.empty())
        run_on_writer((dialect == corm::Dialect::postgresql ? "DROP SCHEMA " : "DROP DATABASE ") +
                      corm::quote_identifier(dialect, schema) +
                      (dialect == corm::Dialect::postgresql ? " CASCADE" : ""));
      if (!dir.empty()) std::filesystem::remove_all(dir);
    } catch (...) {
    }
  }

 private:
  void run_on_writer(const std::string& ddl) const {
    auto admin = corm::create_engine(writer);
    auto c = admin.connect();
    c.exec_driver_sql(ddl);
    c.commit();
  }
  /// A replica connects to the new database only once it has replayed CREATE DATABASE.
  void wait_for_database_on_reader(const std::string& reader_url) const {
    auto engine = corm::create_engine(reader_url);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto c = engine.connect();
      auto r = c.execute(corm::text("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = :name"),
                         {{"name", schema}});
      c.rollback();
      if (r.scalar_one<std::int64_t>() > 0) return;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the replica did not create database " + schema + " within 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
};

}  // namespace

int main(int argc, char** argv) try {
  Options o = parse(argc, argv);
  Place place(o);
  asio::io_context io;
  corm::AsyncEngine writer = corm::create_async_engine(io.get_executor(), place.writer);
  corm::AsyncEngine reader = place.reader == place.writer ? writer : corm::create_async_engine(io.get_executor(), place.reader);
  std::cout << "review service on " << corm::dialect_name(writer.dialect())
            << (place.reader == place.writer ? " (writer = reader)" : " (writer + reader)") << "\n";
  std::exception_ptr error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        {
          corm::MetaData md;
          md.add<User>().add<Product>().add<Review>().add<ReviewImage>();
          auto c = co_await writer.connect();
          co_await corm::create_all(c, md);
          co_await c.commit();
          co_await c.close();
        }
        if (o.coroutines > 0) co_await load(writer, reader, o.coroutines, o.requests);
        else co_await scenario(writer, reader, place.reader == place.writer);
      },
      [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "review_service failed: " << e.what() << "\n";
  return 1;
}

// Read/write split: a writer engine on the primary and a reader engine on
// a replica behind one routing session. For each step the program prints which engine the
// statement went to, and on PostgreSQL which server answered (pg_is_in_recovery() is true only
// on a standby).
//
//   read_write_split                                   SQLite: both engines on one file
//   read_write_split PRIMARY_URL [REPLICA_URL]         PostgreSQL (the replica defaults to the primary)
//   read_write_split --url-env CORM_TEST_PG --replica-url-env CORM_TEST_PG_REPLICA

#include <corm/asyncio.hpp>
#include <corm/ext/routing.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "example_db.hpp"

namespace asio = boost::asio;
using corm::col;

struct Article {
  std::int64_t id{};
  std::string title;
};

template <>
struct corm::Model<Article> {
  static constexpr auto table = corm::table("rw_articles", corm::column("id", &Article::id, corm::primary_key),
                                            corm::column("title", &Article::title));
};

namespace {

/// Waits (bounded) until the replica shows article `id`: replication is asynchronous.
void wait_for_replica(const std::string& url, std::int64_t id) {
  auto engine = corm::create_engine(url);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      auto c = engine.connect();
      std::vector<corm::Value> p{corm::Value(id)};
      if (c.exec_driver_sql("SELECT count(*) FROM rw_articles WHERE id = $1", p).scalar_one<std::int64_t>() == 1) return;
    } catch (const corm::ProgrammingError&) {
      // the table has not been replayed yet
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the replica did not catch up in 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

const char* name(corm::ext::Route r) { return r == corm::ext::Route::reader ? "reader" : "writer"; }

/// Prints where the last statement went and (PostgreSQL) which server answers in this state.
asio::awaitable<void> report(corm::ext::AsyncRoutingSession& rs, const std::string& step) {
  corm::ext::Route route = rs.router().last_route();
  std::cout << step << " -> " << name(route);
  if (rs->dialect() == corm::Dialect::postgresql) {
    // The probe is routed like the step before it (reading does not change the decision).
    auto r = co_await rs->execute(corm::select(corm::func<bool>("pg_is_in_recovery")));
    std::cout << " (answered by " << (r.scalar_one<bool>() ? "the standby" : "the primary") << ")";
  }
  std::cout << "\n";
}

asio::awaitable<void> run(corm::AsyncEngine writer, corm::AsyncEngine reader, corm::ext::ReadYourWrites policy) {
  corm::ext::AsyncRoutingSession rs(writer, reader, {}, policy);

  auto articles = co_await rs->scalars(corm::select<Article>());
  co_await report(rs, "1. read " + std::to_string(articles.size()) + " articles outside a transaction");

  auto a = std::make_shared<Article>();
  a->id = 2;
  a->title = "second";
  rs->add(a);
  co_await rs->flush();
  co_await report(rs, "2. flush (INSERT)");

  auto mine = co_await rs->scalars(corm::select<Article>().where(col(&Article::id) == 2));
  co_await report(rs, "3. read inside the writing transaction, sees its own row: " + std::to_string(mine.size()));

  co_await rs->commit();
  // Read-your-writes: the replica answers once it has replayed this commit (the read waits for it,
  // bounded); the token carries that position to the next request.
  auto after = co_await rs->scalars(corm::select<Article>().where(col(&Article::id) == 2));
  co_await report(rs, "4. read after commit, sees the new row: " + std::to_string(after.size()));
  std::cout << "   causal token: " << (rs.causal_token().empty() ? "(none)" : rs.causal_token()) << "\n";

  auto locked = co_await rs->scalars(corm::select<Article>().where(col(&Article::id) == 1).with_for_update());
  co_await report(rs, "5. with_for_update");
  co_await rs->rollback();

  {
    auto pin = rs.use(corm::ext::Route::writer);  // explicit override
    auto fresh = co_await rs->scalars(corm::select<Article>());
    co_await report(rs, "6. read pinned to the writer");
  }
  co_await rs->rollback();
  std::cout << "statements: reader=" << rs.router().reader_statements() << " writer=" << rs.router().writer_statements()
            << "\n";
  co_await rs->close();
}

}  // namespace

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("rw", args.url);
  std::string reader_url = args.replica_url.empty() ? db.url() : db.in_schema(args.replica_url);
  {
    corm::MetaData md;
    md.add<Article>();
    auto sync = corm::create_engine(db.url());
    auto c = sync.connect();
    md.create_all(c);
    c.execute(corm::insert<Article>().values(Article{1, "first"}));
    c.commit();
  }
  if (!args.replica_url.empty()) wait_for_replica(reader_url, 1);
  asio::io_context io;
  corm::AsyncEngine writer = corm::create_async_engine(io.get_executor(), db.url());
  corm::AsyncEngine reader = corm::create_async_engine(io.get_executor(), reader_url);
  std::cout << "read/write split on " << corm::dialect_name(writer.dialect())
            << (args.replica_url.empty() ? " (reader = same database)" : " (reader = streaming replica)") << "\n";
  std::exception_ptr error;
  // With the reader on the primary itself there is no replication to wait for: routing as
  // before. A real replica gets up to 5 s per position (bounded; normally milliseconds).
  corm::ext::ReadYourWrites policy = args.replica_url.empty() ? corm::ext::ReadYourWrites::off()
                                                              : corm::ext::ReadYourWrites{std::chrono::seconds(5)};
  asio::co_spawn(io, run(writer, reader, policy), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "read_write_split failed: " << e.what() << "\n";
  return 1;
}

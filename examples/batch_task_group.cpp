// A batch import as a transactional task group: the batch is split into chunks,
// each chunk is validated and written by its own task with its own session, concurrently. If
// every chunk succeeds all commit; if one fails, the other tasks are cancelled and every session
// rolls back, so a batch is imported completely or not at all. On PostgreSQL the group can also
// commit with two-phase commit, atomic even if the process dies halfway through committing.
//
//   batch_task_group [URL | --url-env NAME]        (default: a SQLite file in a temp directory)

#include <corm/asyncio.hpp>
#include <corm/ext/task_group.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <iostream>
#include <stdexcept>

#include "example_db.hpp"

namespace asio = boost::asio;
using corm::col;

struct ImportLine {
  std::int64_t id{};
  std::string batch;
  std::string sku;
  int quantity{};
};

template <>
struct corm::Model<ImportLine> {
  static constexpr auto table = corm::table("batch_lines", corm::column("id", &ImportLine::id, corm::primary_key),
                                            corm::column("batch", &ImportLine::batch, corm::indexed),
                                            corm::column("sku", &ImportLine::sku),
                                            corm::column("quantity", &ImportLine::quantity));
};

namespace {

struct InvalidLine : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What tasks observed, printed after each batch.
struct Observed {
  int cancelled = 0;
};

/// The task of one chunk: validate every line, add it to the task's session. A slow chunk
/// waits for a (simulated) external price lookup first.
corm::ext::TransactionalTaskGroup::Task chunk_task(std::string batch, std::int64_t first_id, int lines, int bad_line,
                                                   bool slow, Observed& seen) {
  return [=, &seen](corm::AsyncSession& s) -> asio::awaitable<void> {
    if (slow) {
      asio::steady_timer lookup(co_await asio::this_coro::executor, std::chrono::seconds(30));
      try {
        co_await lookup.async_wait(asio::use_awaitable);
      } catch (const boost::system::system_error& e) {
        if (e.code() == asio::error::operation_aborted) ++seen.cancelled;
        throw;
      }
    }
    for (int i = 0; i < lines; ++i) {
      if (i == bad_line)
        throw InvalidLine("line " + std::to_string(first_id + i) + " of batch " + batch + " has quantity -3");
      auto l = std::make_shared<ImportLine>();
      l->id = first_id + i;
      l->batch = batch;
      l->sku = "SKU-" + std::to_string(first_id + i);
      l->quantity = 1 + i % 7;
      s.add(l);
    }
    co_return;
  };
}

asio::awaitable<std::int64_t> count_rows(corm::AsyncEngine& engine) {
  corm::AsyncSession s(engine);
  auto r = co_await s.execute(corm::select(corm::count()).select_from<ImportLine>());
  co_await s.close();
  co_return r.scalar_one<std::int64_t>();
}

asio::awaitable<void> run(corm::AsyncEngine engine, std::string url) {
  const bool pg = engine.dialect() == corm::Dialect::postgresql;

  Observed a;
  corm::ext::TransactionalTaskGroup batch_a(engine);
  for (int c = 0; c < 4; ++c) batch_a.spawn(chunk_task("A", 1 + c * 25, 25, -1, false, a));
  co_await batch_a.run();
  std::cout << "batch A: 4 chunk tasks succeeded, all committed: rows=" << co_await count_rows(engine) << "\n";

  Observed b;
  corm::ext::TransactionalTaskGroup batch_b(engine);
  batch_b.spawn(chunk_task("B", 101, 25, -1, false, b));
  batch_b.spawn(chunk_task("B", 126, 25, -1, true, b));  // still waiting when chunk 3 fails
  batch_b.spawn(chunk_task("B", 151, 25, 7, false, b));  // line 158 is invalid
  batch_b.spawn(chunk_task("B", 176, 25, -1, false, b));
  std::string failure;
  try {
    co_await batch_b.run();
  } catch (const InvalidLine& e) {
    failure = e.what();
  }
  if (failure.empty()) throw std::logic_error("batch B committed although a chunk was invalid");
  std::cout << "batch B: a chunk failed (" << failure << "); siblings cancelled=" << b.cancelled
            << "; every session rolled back: rows=" << co_await count_rows(engine) << "\n";

  if (!pg) {
    std::cout << "batch C (two-phase commit): needs PostgreSQL, skipped on sqlite\n";
    co_return;
  }
  Observed c;
  corm::ext::TaskGroupOptions two_phase;
  two_phase.two_phase = true;
  two_phase.gid_prefix = "batch_example";
  corm::ext::TransactionalTaskGroup batch_c(engine, two_phase);
  for (int k = 0; k < 3; ++k) batch_c.spawn(chunk_task("C", 201 + k * 25, 25, -1, false, c));
  co_await batch_c.run();
  auto sync = corm::create_engine(url);
  auto conn = sync.connect();
  auto left = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, 'batch_example_')")
                  .scalar_one<std::int64_t>();
  conn.close();
  // Nothing left to resolve; after a crash, recover_prepared_transactions() would finish a group.
  auto report = corm::ext::recover_prepared_transactions(sync, "batch_example");
  std::cout << "batch C (two-phase commit): 3 chunks prepared, then committed: rows=" << co_await count_rows(engine)
            << " prepared left=" << left << " recovered=" << report.committed.size() + report.rolled_back.size()
            << "\n";
}

}  // namespace

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("batch", args.url);
  {
    corm::MetaData md;
    md.add<ImportLine>();
    auto sync = corm::create_engine(db.url());
    auto c = sync.connect();
    md.create_all(c);
    c.commit();
  }
  asio::io_context io;
  corm::AsyncEngine engine = corm::create_async_engine(io.get_executor(), db.url());
  std::cout << "batch import with a transactional task group on " << corm::dialect_name(engine.dialect()) << "\n";
  std::exception_ptr error;
  asio::co_spawn(io, run(engine, db.url()), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "batch_task_group failed: " << e.what() << "\n";
  return 1;
}

// Bank transfers: transactions, row locks, savepoints, deadlock retry and an
// optimistic version conflict, on the async front.
//
//   1. A transfer locks both accounts with FOR UPDATE in id order, so concurrent transfers queue
//      instead of deadlocking, inside transactional() (commit, or roll back on any error).
//   2. A batch runs each transfer in a SAVEPOINT (Propagation::nested): one that would overdraw
//      is rolled back alone, the others are kept.
//   3. Two transfers written the naive way (debit first, then credit) in opposite directions
//      deadlock on PostgreSQL; the server aborts one, and transactional()'s retry policy re-runs
//      it with a fresh session.
//   4. Two sessions change the same account: the version column turns the second write into a
//      StaleDataError instead of a lost update; reload and retry.
//
//   bank_transfer [URL | --url-env NAME]         (default: a SQLite file in a temp directory)

#include <corm/asyncio.hpp>
#include <corm/ext/transactional.hpp>
#include <corm/ext/async_transactional.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <stdexcept>

#include "example_db.hpp"

namespace asio = boost::asio;

struct Account {
  std::int64_t id{};
  std::string owner;
  std::int64_t balance{};
  std::int32_t version{};
};

template <>
struct corm::Model<Account> {
  static constexpr auto table = corm::table("bank_accounts", corm::column("id", &Account::id, corm::primary_key),
                                            corm::column("owner", &Account::owner),
                                            corm::column("balance", &Account::balance),
                                            corm::column("version", &Account::version, corm::version_counter));
};

namespace {

/// The business rule a transfer can break.
struct InsufficientFunds : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using corm::col;

/// Moves `amount` from `from` to `to` in `s`'s transaction, locking both rows in id order.
asio::awaitable<void> move_money(corm::AsyncSession& s, std::int64_t from, std::int64_t to, std::int64_t amount) {
  auto stmt = corm::select<Account>()
                  .where(col(&Account::id) == from || col(&Account::id) == to)
                  .order_by(col(&Account::id))
                  .with_for_update();
  auto rows = co_await s.scalars(stmt);
  if (rows.size() != 2) throw std::invalid_argument("unknown account");
  auto& src = rows[0]->id == from ? rows[0] : rows[1];
  auto& dst = rows[0]->id == from ? rows[1] : rows[0];
  if (src->balance < amount)
    throw InsufficientFunds(src->owner + " has " + std::to_string(src->balance) + ", needs " + std::to_string(amount));
  src->balance -= amount;
  dst->balance += amount;
}

asio::awaitable<void> print_balances(corm::AsyncEngine& engine, const char* when) {
  corm::AsyncSession s(engine);
  auto all = co_await s.scalars(corm::select<Account>().order_by(col(&Account::id)));
  std::int64_t total = 0;
  std::cout << "  balances " << when << ":";
  for (auto& a : all) {
    std::cout << " " << a->owner << "=" << a->balance;
    total += a->balance;
  }
  std::cout << "  total=" << total << "\n";
  co_await s.close();
}

asio::awaitable<void> run(corm::AsyncEngine engine) {
  const bool pg = engine.dialect() == corm::Dialect::postgresql;
  {
    corm::AsyncSession s(engine);
    const char* owners[] = {"alice", "bob", "carol"};
    for (std::int64_t id = 1; id <= 3; ++id) {
      auto a = std::make_shared<Account>();
      a->id = id;
      a->owner = owners[id - 1];
      a->balance = 100;
      s.add(a);
    }
    co_await s.commit();
    co_await s.close();
  }
  co_await print_balances(engine, "at start");

  // 1. One transfer, pessimistic locking.
  auto transfer = [](std::int64_t from, std::int64_t to, std::int64_t amount) {
    return [=](corm::AsyncSession& s) -> asio::awaitable<void> { co_await move_money(s, from, to, amount); };
  };
  auto alice_to_bob = transfer(1, 2, 30);
  co_await corm::ext::transactional(engine, alice_to_bob);
  std::cout << "1. transfer alice -> bob 30: both rows locked FOR UPDATE in id order, committed\n";
  co_await print_balances(engine, "after 1");

  // 2. A batch with a savepoint per transfer.
  struct Item {
    std::int64_t from, to, amount;
    const char* what;
  };
  const Item batch[] = {{2, 3, 20, "bob -> carol 20"}, {3, 1, 500, "carol -> alice 500"}, {1, 3, 10, "alice -> carol 10"}};
  auto run_batch = [&](corm::AsyncSession& s) -> asio::awaitable<int> {
    int applied = 0;
    corm::ext::TxOptions nested;
    nested.propagation = corm::ext::Propagation::nested;
    for (const Item& it : batch) {
      auto one = transfer(it.from, it.to, it.amount);
      try {
        co_await corm::ext::transactional(engine, s, one, nested);
        ++applied;
      } catch (const InsufficientFunds& e) {
        std::cout << "   '" << it.what << "' rolled back to its savepoint: " << e.what() << "\n";
      }
    }
    co_return applied;
  };
  int applied = co_await corm::ext::transactional(engine, run_batch);
  std::cout << "2. batch of 3 transfers in one transaction: " << applied << " applied, 1 rolled back alone\n";
  co_await print_balances(engine, "after 2");

  // 3. The naive order (debit, then credit) in opposite directions, retried on deadlock.
  int attempts = 0, deadlocks = 0, first_locks = 0;
  corm::ext::TxOptions retrying;
  retrying.retry = corm::ext::RetryPolicy::on_conflict(3);
  retrying.retry.on_retry = [&](int attempt, const corm::Error& e) {
    ++deadlocks;
    std::cout << "   attempt " << attempt << " failed (" << e.sqlstate() << " deadlock detected): retrying with a fresh session\n";
  };
  auto naive = [&](std::int64_t from, std::int64_t to, std::int64_t amount) {
    return [&, from, to, amount, first = true](corm::AsyncSession& s) mutable -> asio::awaitable<void> {
      ++attempts;
      auto debit = corm::update<Account>()
                       .set(&Account::balance, col(&Account::balance) - amount)
                       .set(&Account::version, col(&Account::version) + 1)  // keep optimistic readers honest
                       .where(col(&Account::id) == from);
      co_await s.execute(debit);
      // PostgreSQL: wait until both hold their first row, so the deadlock happens every run.
      // SQLite has one writer at a time: the second transfer simply waits for the first.
      if (pg && first) {
        first = false;
        ++first_locks;
        while (first_locks < 2) {
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
          co_await t.async_wait(asio::use_awaitable);
        }
      }
      auto credit = corm::update<Account>()
                        .set(&Account::balance, col(&Account::balance) + amount)
                        .set(&Account::version, col(&Account::version) + 1)  // keep optimistic readers honest
                        .where(col(&Account::id) == to);
      co_await s.execute(credit);
    };
  };
  auto ab = naive(1, 2, 5);
  auto ba = naive(2, 1, 7);
  int finished = 0;
  std::exception_ptr failure;
  auto done = [&](std::exception_ptr e) {
    ++finished;
    if (e && !failure) failure = e;
  };
  auto ex = co_await asio::this_coro::executor;
  auto first_transfer = [&]() -> asio::awaitable<void> { co_await corm::ext::transactional(engine, ab, retrying); };
  auto second_transfer = [&]() -> asio::awaitable<void> { co_await corm::ext::transactional(engine, ba, retrying); };
  asio::co_spawn(ex, first_transfer(), done);
  asio::co_spawn(ex, second_transfer(), done);
  while (finished < 2) {
    asio::steady_timer t(ex, std::chrono::milliseconds(5));
    co_await t.async_wait(asio::use_awaitable);
  }
  if (failure) std::rethrow_exception(failure);
  std::cout << "3. opposite-order transfers: deadlocks=" << deadlocks << " attempts=" << attempts
            << (pg ? " (the server broke the deadlock, the loser re-ran)" : " (SQLite serialises writers: no deadlock)")
            << "\n";
  co_await print_balances(engine, "after 3");

  // 4. Optimistic locking: the second writer of the same version loses.
  corm::AsyncSession a(engine), b(engine);
  auto alice_a = co_await a.get<Account>(std::int64_t{1});
  auto alice_b = co_await b.get<Account>(std::int64_t{1});
  co_await a.commit();  // end both read transactions (like two requests that loaded the row;
  co_await b.commit();  // expire_on_commit is off, so the objects keep their values)
  alice_a->balance += 1;
  co_await a.commit();  // version 1 -> 2
  alice_b->balance -= 1;
  try {
    co_await b.commit();  // UPDATE ... WHERE version = 1 matches nothing
    std::cout << "4. unexpected: the stale write went through\n";
  } catch (const corm::StaleDataError& e) {
    std::cout << "4. version conflict: " << e.what() << "\n";
  }
  co_await b.rollback();
  auto fresh = co_await b.get<Account>(std::int64_t{1});  // expired by the rollback: reloaded
  fresh->balance -= 1;
  co_await b.commit();
  std::cout << "   reloaded (version " << fresh->version - 1 << ") and retried: alice=" << fresh->balance << "\n";
  co_await a.close();
  co_await b.close();
  co_await print_balances(engine, "at end");
}

}  // namespace

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("bank", args.url);
  asio::io_context io;
  corm::AsyncEngine engine = corm::create_async_engine(io.get_executor(), db.url());
  {
    corm::MetaData md;
    md.add<Account>();
    auto sync = corm::create_engine(db.url());
    auto c = sync.connect();
    md.create_all(c);
    c.commit();
  }
  std::cout << "bank transfers on " << corm::dialect_name(engine.dialect()) << "\n";
  std::exception_ptr error;
  asio::co_spawn(io, run(engine), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bank_transfer failed: " << e.what() << "\n";
  return 1;
}

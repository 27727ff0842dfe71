// TransactionState decides which control statements both fronts send; these tests drive it with
// no database, the way the fronts do.
#include <catch2/catch.hpp>

#include <corm/core/error.hpp>
#include <corm/core/detail/transaction_state.hpp>

using corm::Dialect;
using corm::IsolationLevel;
using corm::detail::TransactionState;
using Statements = std::vector<std::string>;

TEST_CASE("transaction state begins once, with the per-connection level spelled out", "[tx]") {
  TransactionState pg(Dialect::postgresql, std::nullopt);
  CHECK(pg.isolation_level() == IsolationLevel::read_committed);
  CHECK(pg.autobegin_statements() == Statements{"BEGIN"});
  pg.set_isolation_level(IsolationLevel::repeatable_read);
  CHECK(pg.autobegin_statements() == Statements{"BEGIN ISOLATION LEVEL REPEATABLE READ"});
  pg.began();
  CHECK(pg.in_transaction());
  CHECK(pg.autobegin_statements().empty());
  CHECK_THROWS_AS(pg.begin_statements(), corm::UsageError);
  CHECK_THROWS_AS(pg.set_isolation_level(IsolationLevel::serializable), corm::UsageError);
}

TEST_CASE("transaction state: the engine-wide level travels at connect, not in BEGIN", "[tx]") {
  TransactionState pg(Dialect::postgresql, IsolationLevel::serializable);
  CHECK(pg.isolation_level() == IsolationLevel::serializable);
  CHECK(pg.autobegin_statements() == Statements{"BEGIN"});
  TransactionState ac(Dialect::postgresql, IsolationLevel::autocommit);
  CHECK(ac.autobegin_statements().empty());
  CHECK(ac.begin_statements() == Statements{"BEGIN"});  // explicit begin() still opens one
}

TEST_CASE("transaction state: autobegins_plainly() says exactly when the autobegin is the one word BEGIN", "[tx]") {
  const std::optional<IsolationLevel> levels[] = {std::nullopt, IsolationLevel::autocommit,
                                                  IsolationLevel::read_uncommitted, IsolationLevel::read_committed,
                                                  IsolationLevel::repeatable_read, IsolationLevel::serializable};
  int plain = 0, not_plain = 0;
  for (Dialect d : {Dialect::postgresql, Dialect::sqlite})
    for (const auto& engine_level : levels)
      for (const auto& conn_level : levels) {
        TransactionState tx(d, engine_level);
        if (conn_level) tx.set_isolation_level(*conn_level);
        const bool is_plain = tx.autobegin_statements() == Statements{"BEGIN"};
        CHECK(tx.autobegins_plainly() == is_plain);
        ++(is_plain ? plain : not_plain);
        tx.began();
        CHECK_FALSE(tx.autobegins_plainly());  // a transaction is open: nothing to begin
      }
  CHECK(plain > 0);  // both answers were exercised
  CHECK(not_plain > 0);
}

TEST_CASE("transaction state: a read-only mark shapes the next BEGIN only, after any isolation level", "[tx]") {
  TransactionState my(Dialect::mysql, std::nullopt);
  my.mark_next_read_only();
  CHECK_FALSE(my.autobegins_plainly());
  CHECK_FALSE(my.reads_may_precede_begin());
  CHECK(my.autobegin_statements() == Statements{"START TRANSACTION READ ONLY"});
  my.set_isolation_level(IsolationLevel::read_committed);
  CHECK(my.autobegin_statements() ==
        Statements{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION READ ONLY"});
  my.began();
  CHECK(my.read_only());
  CHECK_THROWS_WITH(my.mark_next_read_only(), Catch::Contains("once it has begun"));
  (void)my.end();
  CHECK_FALSE(my.read_only());  // one transaction only, as SET TRANSACTION READ ONLY
  CHECK(my.autobegin_statements() == Statements{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "BEGIN"});

  TransactionState pg(Dialect::postgresql, std::nullopt);
  pg.mark_next_read_only();
  CHECK(pg.autobegin_statements() == Statements{"BEGIN READ ONLY"});
  pg.set_isolation_level(IsolationLevel::serializable);
  CHECK(pg.autobegin_statements() == Statements{"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"});

  TransactionState lite(Dialect::sqlite, std::nullopt);
  CHECK_THROWS_WITH(lite.mark_next_read_only(), Catch::Contains("mode=ro"));
}

TEST_CASE("transaction state: SQLite READ UNCOMMITTED sets and resets its pragma", "[tx]") {
  TransactionState lite(Dialect::sqlite, std::nullopt);
  CHECK(lite.isolation_level() == IsolationLevel::serializable);
  lite.set_isolation_level(IsolationLevel::read_uncommitted);
  CHECK(lite.autobegin_statements() == Statements{"PRAGMA read_uncommitted = 1", "BEGIN"});
  lite.began();
  CHECK(lite.end());
  CHECK(lite.after_end_statements() == Statements{"PRAGMA read_uncommitted = 0"});
  CHECK(lite.after_end_statements().empty());
}

TEST_CASE("transaction state: savepoints nest and closing an outer one closes the inner", "[tx]") {
  TransactionState s(Dialect::postgresql, std::nullopt);
  s.began();
  auto [sql1, a] = s.savepoint_statement();
  s.savepoint_opened(a);
  auto [sql2, b] = s.savepoint_statement();
  s.savepoint_opened(b);
  CHECK(sql1 != sql2);
  CHECK(s.in_nested_transaction());
  CHECK(s.end_savepoint_statement(a, false) == "ROLLBACK TO SAVEPOINT corm_sp_" + std::to_string(a));
  s.savepoint_ended(a, false);
  CHECK_FALSE(s.savepoint_active(b));
  CHECK_THROWS_AS(s.end_savepoint_statement(b, true), corm::UsageError);
}

TEST_CASE("transaction state: a failed PostgreSQL statement makes commit refuse until rollback", "[tx]") {
  TransactionState pg(Dialect::postgresql, std::nullopt);
  pg.began();
  pg.on_error(false);
  CHECK(pg.commit_refused());
  CHECK_THROWS_AS(TransactionState::throw_commit_refused(), corm::DatabaseError);
  // A savepoint rollback undoes the failure.
  auto [sql, id] = pg.savepoint_statement();
  pg.savepoint_opened(id);
  pg.on_error(false);
  CHECK_THROWS_AS(pg.end_savepoint_statement(id, true), corm::DatabaseError);
  pg.savepoint_ended(id, false);
  CHECK_FALSE(pg.commit_refused());

  TransactionState lite(Dialect::sqlite, std::nullopt);
  lite.began();
  lite.on_error(false);
  CHECK_FALSE(lite.commit_refused());  // SQLite undoes only the failed statement
}

TEST_CASE("transaction state: a lost connection raises until rollback, which sends nothing", "[tx]") {
  TransactionState s(Dialect::postgresql, std::nullopt);
  const auto id = s.began();
  s.on_error(true);
  CHECK(s.lost());
  CHECK_THROWS_AS(s.check_usable(), corm::ConnectionLost);
  CHECK_THROWS_AS(s.check_commit(), corm::ConnectionLost);
  CHECK(s.root_active(id));
  CHECK_FALSE(s.end());  // no ROLLBACK to send: the server already rolled back
  CHECK_NOTHROW(s.check_usable());
  CHECK_FALSE(s.root_active(id));
}

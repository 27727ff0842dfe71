// Isolation levels, live: two connections of one engine interleave their statements by hand, and
// the program prints what each one saw. Run it on PostgreSQL and on MariaDB / MySQL (give both
// URLs to see them side by side; every line starts with the backend).
//
//   1. Non-repeatable read: READ COMMITTED sees another transaction's committed update between
//      two reads; REPEATABLE READ does not.
//   2. Phantom: a row inserted and committed by another transaction shows up in a repeated
//      count under READ COMMITTED, not under REPEATABLE READ (both servers read a snapshot). On
//      InnoDB a locking read (FOR UPDATE) in that same transaction reads the latest rows and
//      does see it; PostgreSQL's locking read keeps to the snapshot.
//   3. Write skew: two doctors each go off call after checking that someone else is still on
//      call. Under REPEATABLE READ both succeed and nobody is left; under SERIALIZABLE one
//      transaction fails (PostgreSQL: serialization failure; InnoDB: its plain reads took shared
//      locks, so the other's write waits until innodb_lock_wait_timeout) and is retried, sees
//      the other's change, and stays on call.
//   4. InnoDB's next-key lock: a FOR UPDATE over a range of an index also locks the gaps, so an
//      insert into that range waits until the locker commits (here: fails after a 1 s lock wait
//      timeout, then succeeds after the commit). PostgreSQL locks rows, not gaps: the insert goes
//      through at once (its SERIALIZABLE is what catches that kind of phantom).
//   5. A hot counter split into its own table: while a transaction has counted a page view, an
//      edit of the same article waits when the counter is a column of the article row, and goes
//      through when the counter is a row of its own table.
//   6. Indexes declared on the model (a single-column one, a composite one, a covering one) and
//      the plan each query gets (EXPLAIN), checked for the index's name.
//
// Waiting is bounded by a per-session lock timeout (lock_timeout on PostgreSQL,
// innodb_lock_wait_timeout on MySQL), never by sleeps: a blocked statement fails with a lock
// wait error, which is what the program reports.
//
//   isolation_levels URL... | --url-env NAME...     (PostgreSQL and/or MySQL / MariaDB URLs)

#include <corm/corm.hpp>
#include <corm/sql.hpp>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../example_db.hpp"

struct Account {
  std::int64_t id{};
  std::string owner;
  std::int64_t balance{};
};
struct Doctor {
  std::int64_t id{};
  std::string name;
  std::int32_t on_call{};
};
struct Booking {
  std::int64_t id{};
  std::int32_t day{};
  std::string who;
};
/// The counter as a column of the row everybody edits.
struct Article {
  std::int64_t id{};
  std::string title;
  std::int64_t views{};
};
/// The counter in a table of its own, one row per article.
struct ArticleViews {
  std::int64_t article_id{};
  std::int64_t views{};
};
struct Order {
  std::int64_t id{};
  std::int32_t customer_id{};
  std::string status;
  std::int32_t day{};
  std::int64_t total{};
};

template <>
struct corm::Model<Account> {
  static constexpr auto table =
      corm::table("iso_accounts", corm::column("id", &Account::id, corm::primary_key),
                  corm::column("owner", &Account::owner, corm::max_length(20)),
                  corm::column("balance", &Account::balance));
};
template <>
struct corm::Model<Doctor> {
  static constexpr auto table =
      corm::table("iso_doctors", corm::column("id", &Doctor::id, corm::primary_key),
                  corm::column("name", &Doctor::name, corm::max_length(20)),
                  corm::column("on_call", &Doctor::on_call));
};
template <>
struct corm::Model<Booking> {
  static constexpr auto table =
      corm::table("iso_bookings", corm::column("id", &Booking::id, corm::primary_key),
                  corm::column("day", &Booking::day, corm::indexed),  // the range FOR UPDATE locks
                  corm::column("who", &Booking::who, corm::max_length(20)));
};
template <>
struct corm::Model<Article> {
  static constexpr auto table =
      corm::table("iso_articles", corm::column("id", &Article::id, corm::primary_key),
                  corm::column("title", &Article::title, corm::max_length(100)),
                  corm::column("views", &Article::views));
};
template <>
struct corm::Model<ArticleViews> {
  static constexpr auto table =
      corm::table("iso_article_views",
                  corm::column("article_id", &ArticleViews::article_id, corm::primary_key,
                               corm::references(&Article::id)),
                  corm::column("views", &ArticleViews::views));
};
template <>
struct corm::Model<Order> {
  static constexpr auto table = corm::table(
      "iso_orders", corm::column("id", &Order::id, corm::primary_key),
      // single column: ix_iso_orders_customer_id
      corm::column("customer_id", &Order::customer_id, corm::indexed),
      corm::column("status", &Order::status, corm::max_length(12)), corm::column("day", &Order::day),
      corm::column("total", &Order::total),
      // composite: equality on the first column, a range on the second
      corm::index("ix_iso_orders_status_day", &Order::status, &Order::day),
      // covering: every column the daily-totals query reads is in the index, so the table itself
      // is not read. (On PostgreSQL `.include(&Order::total)` on an index of `day` does the same;
      // MySQL has no INCLUDE, so the portable way puts `total` in the key.)
      corm::index("ix_iso_orders_day_total", &Order::day, &Order::total));
};

namespace {

using corm::col;
using corm::IsolationLevel;

const char* yes_no(bool b) { return b ? "yes" : "no"; }

class Demo {
 public:
  explicit Demo(const std::string& url) : db_("isolation_levels", url), engine_(make_engine(db_.url())) {
    pg_ = engine_.dialect() == corm::Dialect::postgresql;
    if (!pg_ && engine_.dialect() != corm::Dialect::mysql)
      throw std::runtime_error("isolation_levels needs a PostgreSQL or MySQL / MariaDB URL (" + engine_.url().str() +
                               " is neither): on SQLite every transaction is SERIALIZABLE and one writer runs at a time");
    tag_ = pg_ ? "[postgresql] " : "[mysql] ";
  }

  void run() {
    auto setup = engine_.connect();
    corm::MetaData md;
    md.add<Account>().add<Doctor>().add<Booking>().add<Article>().add<ArticleViews>().add<Order>();
    md.create_all(setup);
    setup.commit();
    setup.close();

    a_.emplace(engine_.connect());
    b_.emplace(engine_.connect());
    // A statement that has to wait for a lock fails after one second instead of waiting for good.
    for (corm::Connection* c : {&*a_, &*b_}) {
      c->exec_driver_sql(pg_ ? "SET lock_timeout = '1s'" : "SET SESSION innodb_lock_wait_timeout = 1");
      c->commit();
    }

    non_repeatable_read(IsolationLevel::read_committed);
    non_repeatable_read(IsolationLevel::repeatable_read);
    phantom(IsolationLevel::read_committed);
    phantom(IsolationLevel::repeatable_read);
    write_skew(IsolationLevel::repeatable_read);
    write_skew(IsolationLevel::serializable);
    next_key_lock();
    hot_counter();
    indexes();
    a_->close();
    b_->close();
  }

 private:
  static corm::Engine make_engine(const std::string& url) {
    corm::EngineOptions o;
    o.pool.pool_size = 3;
    return corm::create_engine(url, o);
  }

  static std::string level_name(IsolationLevel l) { return std::string(corm::to_sql(l)); }

  void begin(corm::Connection& c, IsolationLevel l) {
    c.set_isolation_level(l);
    c.begin();
  }

  std::int64_t balance(corm::Connection& c) {
    return c.execute(corm::select(col(&Account::balance)).where(col(&Account::id) == 1)).one().get<std::int64_t>(0);
  }

  // 1 --------------------------------------------------------------------------------------------
  void non_repeatable_read(IsolationLevel level) {
    auto& a = *a_;
    auto& b = *b_;
    a.execute(corm::delete_<Account>());
    a.execute(corm::insert<Account>().values(Account{1, "alice", 100}));
    a.commit();

    begin(a, level);
    const std::int64_t first = balance(a);
    b.execute(corm::update<Account>().set(&Account::balance, 50).where(col(&Account::id) == 1));
    b.commit();  // the other transaction's change is committed between a's two reads
    const std::int64_t second = balance(a);
    a.commit();
    std::cout << tag_ << "1. non-repeatable read under " << level_name(level) << ": read " << first << " then "
              << second << " -> non-repeatable read=" << yes_no(first != second) << "\n";
  }

  // 2 --------------------------------------------------------------------------------------------
  auto in_range() const { return col(&Booking::day).between(10, 20); }

  std::int64_t count_range(corm::Connection& c) {
    return c.execute(corm::select(corm::count()).select_from<Booking>().where(in_range())).one().get<std::int64_t>(0);
  }
  std::int64_t count_range_locking(corm::Connection& c) {
    return static_cast<std::int64_t>(
        c.execute(corm::select(col(&Booking::id)).where(in_range()).with_for_update()).size());
  }
  void reset_bookings() {
    auto& a = *a_;
    a.execute(corm::delete_<Booking>());
    std::vector<Booking> rows{{1, 5, "ann"}, {2, 11, "bob"}, {3, 15, "cid"}, {4, 19, "dan"}, {5, 30, "eve"}};
    a.execute(corm::insert<Booking>().values(std::span<const Booking>(rows)));
    a.commit();
  }

  void phantom(IsolationLevel level) {
    auto& a = *a_;
    auto& b = *b_;
    reset_bookings();
    begin(a, level);
    const std::int64_t first = count_range(a);
    b.execute(corm::insert<Booking>().values(Booking{6, 12, "fay"}));
    b.commit();  // a new row inside a's range, committed
    const std::int64_t second = count_range(a);
    std::cout << tag_ << "2. phantom under " << level_name(level) << ": counted days 10-20 " << first << " then "
              << second << " -> phantom=" << yes_no(first != second) << "\n";
    if (level == IsolationLevel::repeatable_read) {
      const std::int64_t locking = count_range_locking(a);
      std::cout << tag_ << "   same transaction, locking read (FOR UPDATE): " << locking << " rows -> phantom="
                << yes_no(locking != first)
                << (pg_ ? " (PostgreSQL's locking read keeps to the transaction's snapshot)\n"
                        : " (InnoDB's locking read reads the latest committed rows, not the snapshot)\n");
    }
    a.commit();
  }

  // 3 --------------------------------------------------------------------------------------------
  std::int64_t on_call(corm::Connection& c) {
    return c.execute(corm::select(corm::count()).select_from<Doctor>().where(col(&Doctor::on_call) == 1))
        .one()
        .get<std::int64_t>(0);
  }
  void go_off_call(corm::Connection& c, std::int64_t doctor) {
    c.execute(corm::update<Doctor>().set(&Doctor::on_call, 0).where(col(&Doctor::id) == doctor));
  }

  /// Both doctors run "if at least two are on call, I go off call". The statements of the two
  /// transactions are interleaved: read, read, write, write, commit, commit. A transaction the
  /// server rolls back (serialization failure, deadlock, lock wait timeout) is retried alone.
  void write_skew(IsolationLevel level) {
    auto& a = *a_;
    auto& b = *b_;
    a.execute(corm::delete_<Doctor>());
    std::vector<Doctor> rows{{1, "alice", 1}, {2, "bob", 1}};
    a.execute(corm::insert<Doctor>().values(std::span<const Doctor>(rows)));
    a.commit();

    corm::Connection* conns[2] = {&a, &b};
    bool failed[2] = {false, false};
    bool wants_off[2] = {false, false};
    int failures = 0;
    std::string why;
    auto step = [&](int i, const std::function<void(corm::Connection&)>& f) {
      if (failed[i]) return;
      try {
        f(*conns[i]);
      } catch (const corm::OperationalError& e) {  // serialization failure, deadlock, lock wait timeout
        conns[i]->rollback();
        failed[i] = true;
        ++failures;
        if (why.empty()) why = e.what();
      }
    };
    for (int i : {0, 1}) begin(*conns[i], level);
    for (int i : {0, 1}) step(i, [&](corm::Connection& c) { wants_off[i] = on_call(c) >= 2; });
    for (int i : {0, 1})
      step(i, [&](corm::Connection& c) {
        if (wants_off[i]) go_off_call(c, i + 1);
      });
    for (int i : {0, 1}) step(i, [&](corm::Connection& c) { c.commit(); });
    int retried = 0;
    for (int i : {0, 1}) {
      if (!failed[i]) continue;
      ++retried;
      begin(*conns[i], level);
      if (on_call(*conns[i]) >= 2) go_off_call(*conns[i], i + 1);
      conns[i]->commit();
    }
    const std::int64_t left = on_call(a);
    a.commit();
    std::cout << tag_ << "3. write skew under " << level_name(level) << ": rolled back by the server=" << failures
              << " retried=" << retried << " doctors on call at the end=" << left
              << " -> write skew=" << yes_no(left == 0) << "\n";
    if (!why.empty()) std::cout << tag_ << "   the loser got: " << why << "\n";
  }

  // 4 --------------------------------------------------------------------------------------------
  void next_key_lock() {
    auto& a = *a_;
    auto& b = *b_;
    reset_bookings();
    begin(a, IsolationLevel::repeatable_read);
    const std::int64_t locked = count_range_locking(a);  // a holds days 10-20 FOR UPDATE
    auto insert_in_range = [&] {
      b.execute(corm::insert<Booking>().values(Booking{7, 16, "gus"}));
      b.commit();
    };
    std::string first;
    bool blocked = false;
    try {
      insert_in_range();
      first = "inserted at once";
    } catch (const corm::OperationalError& e) {
      b.rollback();
      blocked = true;
      first = std::string("waited, then failed: ") + e.what();
    }
    a.commit();
    std::string after = "not needed";
    if (blocked) {
      insert_in_range();
      after = "inserted";
    }
    std::cout << tag_ << "4. FOR UPDATE over days 10-20 (" << locked << " rows) under REPEATABLE READ, insert of day 16 by another transaction: "
              << first << "\n";
    std::cout << tag_ << "   after the locker committed: " << after << " -> phantom insert blocked=" << yes_no(blocked)
              << (pg_ ? " (PostgreSQL locks the rows it read, not the gaps between them)\n"
                      : " (InnoDB's next-key locks cover the gaps of the index range)\n");
  }

  // 5 --------------------------------------------------------------------------------------------
  /// Counts a view in a's open transaction (the rest of the request would follow), then edits the
  /// title from b. Returns what happened to the edit.
  std::string edit_while_counting(bool split) {
    auto& a = *a_;
    auto& b = *b_;
    begin(a, IsolationLevel::read_committed);
    if (split)
      a.execute(corm::update<ArticleViews>()
                    .set(&ArticleViews::views, col(&ArticleViews::views) + 1)
                    .where(col(&ArticleViews::article_id) == 1));
    else
      a.execute(corm::update<Article>().set(&Article::views, col(&Article::views) + 1).where(col(&Article::id) == 1));
    std::string outcome;
    try {
      b.execute(corm::update<Article>().set(&Article::title, std::string("Isolation, revised")).where(col(&Article::id) == 1));
      b.commit();
      outcome = "went through";
    } catch (const corm::OperationalError&) {
      b.rollback();
      outcome = "waited for the counting transaction (lock wait timeout)";
    }
    a.commit();
    return outcome;
  }

  void hot_counter() {
    auto& a = *a_;
    a.execute(corm::delete_<ArticleViews>());
    a.execute(corm::delete_<Article>());
    a.execute(corm::insert<Article>().values(Article{1, "Isolation", 0}));
    a.execute(corm::insert<ArticleViews>().values(ArticleViews{1, 0}));
    a.commit();
    std::cout << tag_ << "5. hot counter, a title edit while a view is being counted: counter on the article row: "
              << edit_while_counting(false) << "\n";
    std::cout << tag_ << "   counter in its own table: " << edit_while_counting(true) << "\n";
  }

  // 6 --------------------------------------------------------------------------------------------
  /// EXPLAIN of `stmt`: PostgreSQL's plan text, or MySQL's `key` and `Extra` columns.
  template <class S>
  std::string explain(const S& stmt) {
    corm::Compiled c = stmt.compile(engine_.dialect());
    c.sql = std::make_shared<const std::string>("EXPLAIN " + *c.sql);
    c.from_cache = false;
    auto rows = a_->execute(std::move(c));
    std::string plan;
    for (auto row : rows) {
      if (pg_) {
        plan += (plan.empty() ? "" : " | ") + row.get<std::string>(0);
      } else {
        auto key = row.get<std::optional<std::string>>("key");
        auto extra = row.get<std::optional<std::string>>("Extra");
        plan += (plan.empty() ? "" : " | ") + std::string("key=") + key.value_or("NULL") +
                " Extra=" + extra.value_or("");
      }
    }
    a_->commit();
    return plan;
  }

  void report_plan(const char* what, const char* index, const std::string& plan, bool covering) {
    const bool used = plan.find(index) != std::string::npos;
    std::cout << tag_ << "6. " << what << ": uses " << index << "=" << yes_no(used);
    if (covering) {
      // PostgreSQL: "Index Only Scan"; MySQL: Extra "Using index" (not "Using index condition").
      bool only = false;
      if (pg_) {
        only = plan.find("Index Only Scan") != std::string::npos;
      } else {
        for (std::size_t p = plan.find("Using index"); p != std::string::npos; p = plan.find("Using index", p + 1))
          if (plan.compare(p, 21, "Using index condition") != 0) only = true;
      }
      std::cout << " index only=" << yes_no(only);
    }
    std::cout << "\n" << tag_ << "   plan: " << plan << "\n";
  }

  void indexes() {
    auto& a = *a_;
    if (pg_) {
      // VACUUM marks a page all-visible (what an index-only scan relies on) only once the commit
      // of its rows is flushed to the WAL; with synchronous_commit off, as on a test server, that
      // may still be pending when VACUUM runs right after the load.
      a.exec_driver_sql("SET synchronous_commit = on");
      a.commit();
    }
    a.execute(corm::delete_<Order>());
    // 20,000 orders: 400 customers, 2% of them open, spread over 365 days.
    std::vector<Order> batch;
    for (std::int64_t id = 1; id <= 20000; ++id) {
      batch.push_back(Order{id, static_cast<std::int32_t>(id % 400 + 1), id % 50 == 0 ? "open" : "shipped",
                            static_cast<std::int32_t>(id % 365 + 1), id % 997});
      if (batch.size() == 500) {
        a.execute(corm::insert<Order>().values(std::span<const Order>(batch)));
        batch.clear();
      }
    }
    a.commit();
    // Fresh statistics (and, on PostgreSQL, the visibility map an index-only scan relies on).
    if (pg_) {
      a.set_isolation_level(IsolationLevel::autocommit);
      a.exec_driver_sql("VACUUM ANALYZE iso_orders");
      a.set_isolation_level(IsolationLevel::read_committed);
    } else {
      a.exec_driver_sql("ANALYZE TABLE iso_orders");
      a.commit();
    }
    report_plan("single-column index, orders of one customer", "ix_iso_orders_customer_id",
                explain(corm::select<Order>().where(col(&Order::customer_id) == 42)), false);
    report_plan("composite index, open orders of days 100-120", "ix_iso_orders_status_day",
                explain(corm::select<Order>().where(col(&Order::status) == std::string("open") &&
                                                    col(&Order::day).between(100, 120))),
                false);
    report_plan("covering index, totals of days 1-5", "ix_iso_orders_day_total",
                explain(corm::select(col(&Order::day), corm::sum(col(&Order::total)))
                            .where(col(&Order::day).between(1, 5))
                            .group_by(col(&Order::day))),
                true);
  }

  example::Database db_;
  corm::Engine engine_;
  bool pg_ = false;
  std::string tag_;
  std::optional<corm::Connection> a_, b_;
};

}  // namespace

int main(int argc, char** argv) try {
  std::vector<std::string> urls;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--url-env" && i + 1 < argc) {
      const char* v = std::getenv(argv[++i]);
      if (!v || !*v)
        throw std::runtime_error(std::string("environment variable ") + argv[i] +
                                 " is not set; export it (the test script does) or pass a URL");
      urls.emplace_back(v);
    } else if (arg.rfind("--", 0) == 0) {
      throw std::runtime_error("unknown option " + std::string(arg) + "; usage: isolation_levels URL... | --url-env NAME...");
    } else {
      urls.emplace_back(arg);
    }
  }
  if (urls.empty()) {
    std::cerr << "usage: isolation_levels URL... | --url-env NAME...  (PostgreSQL and/or MySQL / MariaDB URLs)\n";
    return 2;
  }
  for (const std::string& url : urls) Demo(url).run();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "isolation_levels failed: " << e.what() << "\n";
  return 1;
}

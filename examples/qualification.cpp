// Qualification check: one API call runs several checks, each of which loads the same
// user and course. Given a session each, every check sends its own copies of the same queries —
// the duplicate queries a profile of such a service shows. Run as read-only transactional() calls joined
// to one shared read-only session (REQUIRED), the second and later get()s are identity-map hits.
// The report comes from the sessions' statistics (statements grouped by shape), before and after.
//
//   qualification [URL | --url-env NAME]        (default: a SQLite file in a temp directory)

#include <corm/asyncio.hpp>
#include <corm/ext/transactional.hpp>
#include <corm/ext/async_transactional.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <iostream>
#include <map>

#include "example_db.hpp"

namespace asio = boost::asio;
using corm::col;

struct Student {
  std::int64_t id{};
  std::string name;
  int age{};
};
struct Course {
  std::int64_t id{};
  std::string title;
  int min_age{};
  std::optional<std::int64_t> prerequisite_id;
};
struct Payment {
  std::int64_t id{};
  std::int64_t student_id{};
  std::int64_t amount{};
};
struct Completion {
  std::int64_t id{};
  std::int64_t student_id{};
  std::int64_t course_id{};
};

template <>
struct corm::Model<Student> {
  static constexpr auto table = corm::table("q_students", corm::column("id", &Student::id, corm::primary_key),
                                            corm::column("name", &Student::name), corm::column("age", &Student::age));
};
template <>
struct corm::Model<Course> {
  static constexpr auto table = corm::table("q_courses", corm::column("id", &Course::id, corm::primary_key),
                                            corm::column("title", &Course::title),
                                            corm::column("min_age", &Course::min_age),
                                            corm::column("prerequisite_id", &Course::prerequisite_id));
};
template <>
struct corm::Model<Payment> {
  static constexpr auto table = corm::table("q_payments", corm::column("id", &Payment::id, corm::primary_key),
                                            corm::column("student_id", &Payment::student_id, corm::indexed),
                                            corm::column("amount", &Payment::amount));
};
template <>
struct corm::Model<Completion> {
  static constexpr auto table = corm::table("q_completions", corm::column("id", &Completion::id, corm::primary_key),
                                            corm::column("student_id", &Completion::student_id, corm::indexed),
                                            corm::column("course_id", &Completion::course_id));
};

namespace {

constexpr std::int64_t kStudent = 1, kCourse = 2;

// ---- the checks: each is a unit of work on whatever session it is given ----
using Check = std::function<asio::awaitable<bool>(corm::AsyncSession&)>;

asio::awaitable<bool> profile_complete(corm::AsyncSession& s) {
  auto st = co_await s.get<Student>(kStudent);
  co_return st && !st->name.empty();
}
asio::awaitable<bool> old_enough(corm::AsyncSession& s) {
  auto st = co_await s.get<Student>(kStudent);
  auto c = co_await s.get<Course>(kCourse);
  co_return st && c && st->age >= c->min_age;
}
asio::awaitable<bool> fees_paid(corm::AsyncSession& s) {
  auto st = co_await s.get<Student>(kStudent);
  auto paid = co_await s.scalars(corm::select<Payment>().where(col(&Payment::student_id) == st->id));
  std::int64_t sum = 0;
  for (auto& p : paid) sum += p->amount;
  co_return sum >= 100;
}
asio::awaitable<bool> prerequisite_done(corm::AsyncSession& s) {
  auto c = co_await s.get<Course>(kCourse);
  if (!c->prerequisite_id) co_return true;
  auto st = co_await s.get<Student>(kStudent);
  auto done = co_await s.scalars(corm::select<Completion>().where(col(&Completion::student_id) == st->id &&
                                                                  col(&Completion::course_id) == *c->prerequisite_id));
  co_return !done.empty();
}

const std::vector<std::pair<const char*, Check>> kChecks = {
    {"profile_complete", profile_complete},
    {"old_enough", old_enough},
    {"fees_paid", fees_paid},
    {"prerequisite_done", prerequisite_done},
};

/// Statements by shape, summed over the sessions the API used.
struct Report {
  std::map<std::string, std::uint64_t> shapes;
  void collect(const corm::SessionStats& stats) {
    for (const auto& sh : stats.shapes()) shapes[sh.sql] += sh.count;
  }
  void print(const char* label, bool qualified) const {
    std::uint64_t total = 0, repeated = 0;
    for (const auto& [sql, n] : shapes) {
      total += n;
      repeated += n - 1;
    }
    std::cout << label << ": statements=" << total << " repeated=" << repeated
              << " qualified=" << (qualified ? "yes" : "no") << "\n";
    for (const auto& [sql, n] : shapes)
      std::cout << "    " << n << "x " << (sql.size() > 90 ? sql.substr(0, 87) + "..." : sql) << "\n";
  }
};

asio::awaitable<void> run(corm::AsyncEngine engine) {
  corm::ext::TxOptions ro;
  ro.read_only = true;

  // Before: every check in a transaction (and session) of its own.
  Report before;
  bool ok = true;
  for (const auto& item : kChecks) {
    const Check& check = item.second;
    auto own = [&](corm::AsyncSession& s) -> asio::awaitable<bool> {
      bool r = co_await check(s);
      before.collect(s.stats());
      co_return r;
    };
    ok = co_await corm::ext::transactional(engine, own, ro) && ok;
  }
  before.print("before (a session per check)", ok);

  // After: one read-only transaction; each check joins it (REQUIRED), sharing the identity map.
  Report after;
  auto api = [&](corm::AsyncSession& shared) -> asio::awaitable<bool> {
    bool all = true;
    for (const auto& item : kChecks) {
      const Check& check = item.second;
      auto joined = [&](corm::AsyncSession& s) -> asio::awaitable<bool> { co_return co_await check(s); };
      all = co_await corm::ext::transactional(engine, shared, joined, ro) && all;
    }
    after.collect(shared.stats());
    co_return all;
  };
  bool ok2 = co_await corm::ext::transactional(engine, api, ro);
  after.print("after (one shared read-only session)", ok2);
}

}  // namespace

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("qualification", args.url);
  {
    corm::MetaData md;
    md.add<Student>().add<Course>().add<Payment>().add<Completion>();
    auto sync = corm::create_engine(db.url());
    auto c = sync.connect();
    md.create_all(c);
    c.execute(corm::insert<Student>().values(Student{kStudent, "Mina", 24}));
    c.execute(corm::insert<Course>().values(Course{1, "Basics", 16, std::nullopt}));
    c.execute(corm::insert<Course>().values(Course{kCourse, "Advanced", 18, std::int64_t{1}}));
    c.execute(corm::insert<Payment>().values(Payment{1, kStudent, 60}));
    c.execute(corm::insert<Payment>().values(Payment{2, kStudent, 40}));
    c.execute(corm::insert<Completion>().values(Completion{1, kStudent, 1}));
    c.commit();
  }
  asio::io_context io;
  corm::AsyncEngine engine = corm::create_async_engine(io.get_executor(), db.url());
  std::cout << "qualification API on " << corm::dialect_name(engine.dialect()) << ": 4 checks of student "
            << kStudent << " for course " << kCourse << "\n";
  std::exception_ptr error;
  asio::co_spawn(io, run(engine), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "qualification failed: " << e.what() << "\n";
  return 1;
}

// Quick start: an engine over a bounded pool, commit-as-you-go, an explicit transaction with a
// savepoint whose failure does not lose the rest, and query counting through events.
//
//   quickstart [URL | --url-env NAME]      (default: a SQLite file in a temp directory)
#include <corm/corm.hpp>

#include <cstdio>
#include <iostream>

#include "example_db.hpp"

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("quickstart", args.url);  // PostgreSQL: a schema of its own
  const std::string& url = db.url();
  corm::EngineOptions options;
  options.pool.pool_size = 4;
  auto engine = corm::create_engine(url, options);
  std::cout << "engine: " << engine.url().str() << "\n";  // str() never shows a password

  int statements = 0;
  engine.events().after_execute([&](const corm::StatementEvent&) { ++statements; });

  auto conn = engine.connect();
  conn.execute_script("DROP TABLE IF EXISTS demo_books");
  conn.execute_script("CREATE TABLE demo_books (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, pages INTEGER)");
  conn.commit();

  const auto insert = corm::text("INSERT INTO demo_books (id, title, pages) VALUES (:id, :title, :pages)");
  {
    auto tx = conn.begin();
    conn.execute(insert, {{"id", 1}, {"title", "A"}, {"pages", 120}});
    {
      auto sp = conn.begin_nested();
      try {
        conn.execute(insert, {{"id", 2}, {"title", "A"}, {"pages", 80}});  // duplicate title
        sp.commit();
      } catch (const corm::IntegrityError& e) {
        std::cout << "savepoint rolled back: " << e.what() << "\n";
        sp.rollback();
      }
    }
    conn.execute(insert, {{"id", 3}, {"title", "C"}, {"pages", corm::to_value(std::optional<int>{})}});
    tx.commit();
  }

  for (auto row : conn.execute(corm::text("SELECT id, title, pages FROM demo_books ORDER BY id"), {})) {
    auto [id, title, pages] = row.as<std::int64_t, std::string, std::optional<int>>();
    std::cout << "book " << id << " " << title << " pages=" << (pages ? std::to_string(*pages) : "NULL") << "\n";
  }
  conn.close();

  auto status = engine.pool_status();
  std::cout << "statements sent: " << statements << "\n";
  std::cout << "pool: size=" << status.pool_size << " idle=" << status.idle << " checked_out=" << status.checked_out
            << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "quickstart failed: " << e.what() << "\n";
  return 1;
}

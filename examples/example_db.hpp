#pragma once
// What every example shares: where its database is. With no argument, a SQLite file in a fresh
// temp directory; with a URL (or `--url-env NAME`, the URL in environment variable NAME — how the
// tests pass theirs), that database. On PostgreSQL the example works in a schema of its own, on
// MySQL in a database of its own, created at start and dropped at the end, so it never touches
// existing tables and several examples can run at once.

#include <corm/corm.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

namespace example {

/// Reads `--url-env NAME` / `--replica-url-env NAME` / a plain URL from the command line.
struct Args {
  std::string url;
  std::string replica_url;

  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if ((a == "--url-env" || a == "--replica-url-env") && i + 1 < argc) {
        const char* v = std::getenv(argv[++i]);
        if (!v || !*v)
          throw std::runtime_error(std::string("environment variable ") + argv[i] +
                                   " is not set; export it (the test script does) or pass a URL");
        (a == "--url-env" ? url : replica_url) = v;
      } else if (a.rfind("--", 0) == 0) {
        throw std::runtime_error("unknown option " + std::string(a) +
                                 "; usage: [URL | --url-env NAME] [--replica-url-env NAME]");
      } else if (url.empty()) {
        url = a;
      } else {
        replica_url = a;
      }
    }
  }
};

/// The example's database (see the header comment).
class Database {
 public:
  explicit Database(const std::string& name, std::string url = {}) {
    if (url.empty()) {
      dir_ = std::filesystem::temp_directory_path() / ("corm-" + name + "-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:///" + (dir_ / (name + ".db")).string();
      return;
    }
    base_ = url;
    const corm::Dialect d = corm::Url::parse(url).dialect();
    if (d == corm::Dialect::sqlite) {
      url_ = url;
      return;
    }
    std::random_device rd;
    const std::string own = "corm_example_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000);
    auto admin = corm::create_engine(url);
    auto c = admin.connect();
    if (d == corm::Dialect::mysql) {
      c.exec_driver_sql("CREATE DATABASE " + corm::quote_identifier(d, own));
      database_ = own;
      url_ = corm::Url::parse(url).with_database(own).str_with_password();
      return;
    }
    schema_ = own;
    c.exec_driver_sql("CREATE SCHEMA " + corm::quote_identifier(corm::Dialect::postgresql, schema_));
    c.commit();
    url_ = in_schema(url);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    try {
      if (!database_.empty()) {
        auto admin = corm::create_engine(base_);
        auto c = admin.connect();
        c.exec_driver_sql("DROP DATABASE " + corm::quote_identifier(corm::Dialect::mysql, database_));
      }
      if (!schema_.empty()) {
        auto admin = corm::create_engine(base_);
        auto c = admin.connect();
        c.exec_driver_sql("DROP SCHEMA " + corm::quote_identifier(corm::Dialect::postgresql, schema_) + " CASCADE");
        c.commit();
      }
      if (!dir_.empty()) std::filesystem::remove_all(dir_);
    } catch (const std::exception& e) {
      std::cerr << "cleanup failed: " << e.what() << "\n";
    }
  }

  /// The URL to connect to (PostgreSQL: with the example's schema first on the search_path).
  const std::string& url() const noexcept { return url_; }
  bool postgres() const { return !schema_.empty(); }
  /// Another server's URL (a replica of this one) seeing the same schema.
  std::string in_schema(const std::string& other) const {
    if (schema_.empty()) return other;
    return corm::Url::parse(other).with_query("options", "-c search_path=" + schema_).str();
  }

 private:
  std::string base_;
  std::string url_;
  std::string schema_;
  std::string database_;  // MySQL
  std::filesystem::path dir_;
};

/// Counts the statements an engine sends (before_execute events), leaving out transaction
/// control (BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) and session settings
/// (SET, PRAGMA).
template <class E>
class QueryCounter {
 public:
  explicit QueryCounter(E& engine) : n_(std::make_shared<std::atomic<int>>(0)) {
    engine.events().before_execute([n = n_](const corm::StatementEvent& e) {
      for (std::string_view control :
           {"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "PRAGMA"})
        if (e.sql.substr(0, control.size()) == control) return;
      ++*n;
    });
  }
  /// Statements since the last take().
  int take() { return n_->exchange(0); }

 private:
  std::shared_ptr<std::atomic<int>> n_;
};

}  // namespace example

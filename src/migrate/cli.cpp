// The migration command line: argument parsing, then one function per command over the
// library (ScriptDirectory, RevisionChain, Migrator, autogenerate, offline scripts).

#include "corm/migrate/cli.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>

#include "corm/core/error.hpp"
#include "corm/core/url.hpp"
#include "corm/engine/engine.hpp"
#include "corm/migrate/autogenerate.hpp"
#include "corm/migrate/config.hpp"
#include "corm/migrate/migration_error.hpp"
#include "corm/migrate/migrator.hpp"
#include "corm/migrate/offline_script.hpp"
#include "corm/migrate/script_directory.hpp"

namespace corm::migrate {

namespace fs = std::filesystem;

namespace {

/// A bad command line: reported with the usage hint, exit status 2.
class UsageProblem : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::optional<std::string> url, dir, config, message;
  bool sql = false, autogenerate = false, help = false;
  std::optional<bool> colour;
};

const char* usage_text =
    "usage: {prog} [options] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  init DIR                        create the versions directory DIR and the config file\n"
    "  revision -m MSG [--autogenerate] new revision (autogenerate: diff the models with the database)\n"
    "  upgrade [head|+N|REV]           apply revisions (default head)\n"
    "  downgrade -N|REV|base           revert revisions\n"
    "  current                         the revision the database is at\n"
    "  history                         every revision, newest first\n"
    "  heads                           the newest revision(s); more than one means a branch\n"
    "  stamp REV|head|base             record REV as current without running anything\n"
    "  check                           exit 1 when the models and the database differ\n"
    "\n"
    "options:\n"
    "  --url URL        database URL (else $CORM_DATABASE_URL, else `url =` in the config)\n"
    "  --dir DIR        versions directory (else `directory =` in the config)\n"
    "  --config FILE    config file (default corm-migrate.ini)\n"
    "  --sql            print the SQL of upgrade/downgrade, run nothing (FROM:TO sets the start)\n"
    "  --color, --no-color\n"
    "  -h, --help\n";

std::string usage(const std::string& prog) {
  std::string u = usage_text;
  for (auto p = u.find("{prog}"); p != std::string::npos; p = u.find("{prog}")) u.replace(p, 6, prog);
  return u;
}

bool is_step_count(const std::string& a) {
  if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) return false;
  for (std::size_t i = 1; i < a.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(a[i]))) return false;
  return true;
}

Args parse(const std::vector<std::string>& in) {
  Args a;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string& s = in[i];
    auto value = [&](const char* opt) -> std::string {
      auto eq = s.find('=');
      if (s.rfind("--", 0) == 0 && eq != std::string::npos) return s.substr(eq + 1);
      if (i + 1 >= in.size()) throw UsageProblem(std::string(opt) + " needs a value");
      return in[++i];
    };
    auto is = [&](const char* opt) { return s == opt || s.rfind(std::string(opt) + "=", 0) == 0; };
    if (is("--url")) a.url = value("--url");
    else if (is("--dir")) a.dir = value("--dir");
    else if (is("--config")) a.config = value("--config");
    else if (s == "-m" || is("--message")) a.message = value("-m");
    else if (s == "--sql") a.sql = true;
    else if (s == "--autogenerate") a.autogenerate = true;
    else if (s == "--color" || s == "--colour") a.colour = true;
    else if (s == "--no-color" || s == "--no-colour") a.colour = false;
    else if (s == "-h" || s == "--help") a.help = true;
    else if (s.size() > 1 && s[0] == '-' && !is_step_count(s)) throw UsageProblem("unknown option " + s);
    else if (a.command.empty()) a.command = s;
    else a.positional.push_back(s);
  }
  return a;
}

std::string duration_text(std::chrono::steady_clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  char buf[32];
  if (us < 1'000'000) std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(us) / 1000.0);
  else std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(us) / 1e6);
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

class Cli {
 public:
  Cli(const Args& a, const MetaData& models, const CliEnvironment& env)
      : a_(a), models_(models), out_(*env.out), err_(*env.err), colour_(a.colour.value_or(env.colour)),
        env_url_(env.database_url) {}

  int dispatch() {
    const std::string& c = a_.command;
    if (c == "init") return init();
    if (c == "revision") return revision();
    if (c == "upgrade") return upgrade();
    if (c == "downgrade") return downgrade();
    if (c == "current") return current();
    if (c == "history") return history();
    if (c == "heads") return heads();
    if (c == "stamp") return stamp();
    if (c == "check") return check();
    throw UsageProblem("unknown command '" + c + "'");
  }

 private:
  std::string paint(const std::string& text, const char* code) const {
    return colour_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  std::string green(const std::string& t) const { return paint(t, "32"); }
  std::string red(const std::string& t) const { return paint(t, "31"); }
  std::string yellow(const std::string& t) const { return paint(t, "33"); }
  std::string bold(const std::string& t) const { return paint(t, "1"); }

  void expect_args(std::size_t min, std::size_t max, const char* shape) const {
    if (a_.positional.size() < min || a_.positional.size() > max)
      throw UsageProblem("`" + a_.command + "` takes " + shape);
  }

  fs::path config_path() const { return a_.config ? fs::path(*a_.config) : fs::path(default_config_file); }

  const std::optional<Config>& config() {
    if (!config_loaded_) {
      config_loaded_ = true;
      std::error_code ec;
      if (fs::exists(config_path(), ec)) config_ = read_config(config_path());
      else if (a_.config) read_config(config_path());  // an explicit file must exist: throws
    }
    return config_;
  }

  ScriptDirectory directory() {
    if (a_.dir) return ScriptDirectory(*a_.dir);
    if (!config())
      throw ConfigError("no versions directory: pass --dir DIR, or run `init DIR` here first (it writes " +
                        config_path().string() + ")");
    return ScriptDirectory(config()->directory);
  }

  std::string url() {
    if (a_.url) return *a_.url;
    if (env_url_ && !env_url_->empty()) return *env_url_;
    if (config() && config()->url) return *config()->url;
    throw ConfigError(std::string("no database URL: pass --url URL, set ") + url_environment_variable +
                      ", or add `url = ...` to " + config_path().string());
  }

  Engine engine() {
    if (!engine_) {
      EngineOptions o;
      o.pool.pool_size = 1;
      engine_ = create_engine(url(), o);
    }
    return *engine_;
  }

  Migrator migrator(RevisionChain chain) {
    return Migrator(engine(), std::move(chain), [this](const MigrationStep& s) { progress(s); });
  }

  std::string label(const std::optional<std::string>& rev) const { return rev.value_or("base"); }

  void progress(const MigrationStep& s) {
    const Revision& r = *s.revision;
    if (s.phase == MigrationStep::Phase::started) {
      const std::optional<std::string> from = s.upgrade ? r.down_revision : std::optional<std::string>(r.id);
      const std::optional<std::string> to = s.upgrade ? std::optional<std::string>(r.id) : r.down_revision;
      out_ << "Running " << (s.upgrade ? "upgrade " : "downgrade ") << label(from) << " -> " << bold(label(to))
           << (r.message.empty() ? "" : ", " + r.message) << " (" << s.statements << " statement"
           << (s.statements == 1 ? "" : "s") << ") ... " << std::flush;
    } else if (s.phase == MigrationStep::Phase::finished) {
      out_ << green("done") << " in " << duration_text(s.elapsed) << "\n" << std::flush;
    } else {
      out_ << red("FAILED") << " after " << duration_text(s.elapsed)
           << (dialect_traits(engine().dialect()).transactional_ddl ? ", rolled back"
                                                                    : "; its DDL so far may have stayed applied")
           << "\n" << std::flush;
    }
  }

  // Said before anything runs, so nobody expects a failed revision to be undone on its own.
  void ddl_note() {
    const Dialect d = engine().dialect();
    if (dialect_traits(d).transactional_ddl) return;
    out_ << "Note: " << dialect_name(d) << " DDL is not transactional: each CREATE, ALTER or DROP commits as it runs, "
         << "so a revision that fails midway may leave its earlier statements applied.\n";
  }

  // --- commands -----------------------------------------------------------------------------

  int init() {
    expect_args(1, 1, "one argument: the directory to create");
    const fs::path dir = a_.positional[0];
    const fs::path cfg = config_path();
    std::error_code ec;
    if (fs::exists(cfg, ec))
      throw ConfigError("config file " + cfg.string() + " exists already: this folder has a migrations setup. "
                        "Pass --config OTHER_FILE for a second one");
    ScriptDirectory::create(dir);
    Config c;
    const fs::path base = fs::absolute(cfg).parent_path();
    c.directory = dir.is_absolute() ? dir : fs::relative(fs::absolute(dir), base);
    c.url = a_.url;
    write_config(cfg, c);
    out_ << "Created versions directory " << bold(dir.string()) << "\n";
    out_ << "Wrote " << cfg.string() << " (directory = " << c.directory.generic_string() << ")\n";
    out_ << "Next: `revision -m \"first revision\" --autogenerate`, then `upgrade head`\n";
    return exit_ok;
  }

  int revision() {
    expect_args(0, 0, "no arguments (the message goes in -m)");
    if (!a_.message || a_.message->empty())
      throw UsageProblem("`revision` needs a message: revision -m \"add users table\"");
    ScriptDirectory dir = directory();
    RevisionChain chain = dir.load();
    const Revision* head = chain.head();  // throws on two heads, naming them
    Revision r;
    r.id = ScriptDirectory::new_revision_id();
    while (chain.find(r.id)) r.id = ScriptDirectory::new_revision_id();
    if (head) r.down_revision = head->id;
    r.message = *a_.message;
    r.created = utc_now();
    std::vector<SchemaChange> changes;
    if (a_.autogenerate) {
      Migrator m = migrator(chain);
      auto current = m.current();
      const std::optional<std::string> head_id = head ? std::optional<std::string>(head->id) : std::nullopt;
      if (current != head_id)
        throw ConfigError("the database is at " + label(current) + " but the newest revision is " + label(head_id) +
                          "; run `upgrade head` first, so autogenerate compares the models with the latest schema");
      const Dialect d = m.dialect();
      Autogenerated g = autogenerate(d, m.live_schema(), models_.schema(d));
      changes = g.changes;
      r.dialect = d;
      r.upgrade = g.empty() ? "-- no changes detected\n" : g.upgrade;
      r.downgrade = g.empty() ? "-- no changes detected\n" : g.downgrade;
    } else {
      r.upgrade = "-- write the upgrade SQL here, statements ending in ;\n";
      r.downgrade = "-- write the SQL that undoes it here\n";
    }
    fs::path file = dir.write(r);
    out_ << "Generated " << bold(file.string()) << "\n";
    out_ << "  revision " << r.id << ", down_revision " << label(r.down_revision) << "\n";
    if (a_.autogenerate) {
      if (changes.empty()) out_ << yellow("No changes detected") << ": the revision is empty\n";
      for (const SchemaChange& c : changes) out_ << "  " << c.describe() << "\n";
      if (r.upgrade.find("-- REVIEW:") != std::string::npos || r.downgrade.find("-- REVIEW:") != std::string::npos)
        out_ << yellow("Review the -- REVIEW: comments") << " in the file before upgrading\n";
    }
    return exit_ok;
  }

  // "FROM:TO" for offline runs; otherwise just TO.
  std::pair<std::optional<std::string>, std::string> offline_range(const std::string& arg, bool upgrade) {
    auto colon = arg.find(':');
    if (colon == std::string::npos) {
      if (!upgrade)
        throw UsageProblem("offline downgrade needs its starting revision: downgrade --sql FROM:TO (e.g. head:base)");
      return {std::nullopt, arg};
    }
    return {std::optional<std::string>(arg.substr(0, colon)), arg.substr(colon + 1)};
  }

  int offline(const RevisionChain& chain, const std::string& arg, bool upgrade) {
    const Dialect d = Url::parse(url()).dialect();  // only the dialect: nothing connects
    auto [from, target] = offline_range(arg, upgrade);
    if (from) {
      if (*from == "base") from.reset();
      else if (*from == "head") {
        const Revision* h = chain.head();
        if (!h) throw ConfigError("there are no revisions");
        from = h->id;
      } else {
        from = chain.resolve(*from).id;
      }
    }
    out_ << (upgrade ? upgrade_script(d, chain, from, target) : downgrade_script(d, chain, from, target));
    return exit_ok;
  }

  int upgrade() {
    expect_args(0, 1, "at most one target: head, +N or a revision id");
    const std::string target = a_.positional.empty() ? "head" : a_.positional[0];
    RevisionChain chain = directory().load();
    if (a_.sql) return offline(chain, target, true);
    Migrator m = migrator(std::move(chain));
    ddl_note();
    auto applied = m.upgrade(target);
    if (applied.empty()) out_ << "Nothing to do: the database is already at " << bold(label(m.current())) << "\n";
    else out_ << green("Upgraded") << " to " << bold(applied.back()->id) << " (" << applied.size() << " revision"
              << (applied.size() == 1 ? "" : "s") << ")\n";
    return exit_ok;
  }

  int downgrade() {
    expect_args(1, 1, "one target: -N, a revision id, or base");
    RevisionChain chain = directory().load();
    if (a_.sql) return offline(chain, a_.positional[0], false);
    Migrator m = migrator(std::move(chain));
    ddl_note();
    auto reverted = m.downgrade(a_.positional[0]);
    if (reverted.empty()) out_ << "Nothing to do: the database is already at " << bold(label(m.current())) << "\n";
    else out_ << green("Downgraded") << " to " << bold(label(reverted.back()->down_revision)) << " ("
              << reverted.size() << " revision" << (reverted.size() == 1 ? "" : "s") << ")\n";
    return exit_ok;
  }

  std::string head_mark(const RevisionChain& chain, const Revision& r) const {
    for (const Revision* h : chain.heads())
      if (h->id == r.id) return " (head)";
    return "";
  }

  int current() {
    expect_args(0, 0, "no arguments");
    RevisionChain chain = directory().load();
    Migrator m = migrator(chain);
    auto cur = m.current();
    if (!cur) {
      out_ << "base (no revision applied)\n";
      return exit_ok;
    }
    const Revision* r = m.chain().find(*cur);
    out_ << bold(*cur) << (r ? head_mark(m.chain(), *r) + (r->message.empty() ? "" : ", " + r->message) : "")
         << "\n";
    if (!r) err_ << yellow("warning: ") << *cur << " is not in the versions directory\n";
    return exit_ok;
  }

  int history() {
    expect_args(0, 0, "no arguments");
    RevisionChain chain = directory().load();
    if (chain.empty()) {
      out_ << "No revisions yet: create one with `revision -m MESSAGE`\n";
      return exit_ok;
    }
    const auto& revs = chain.revisions();
    for (auto it = revs.rbegin(); it != revs.rend(); ++it)
      out_ << label(it->down_revision) << " -> " << bold(it->id) << head_mark(chain, *it)
           << (it->message.empty() ? "" : ", " + it->message) << "\n";
    return exit_ok;
  }

  int heads() {
    expect_args(0, 0, "no arguments");
    RevisionChain chain = directory().load();
    auto hs = chain.heads();
    if (hs.empty()) out_ << "No revisions yet: create one with `revision -m MESSAGE`\n";
    for (const Revision* h : hs)
      out_ << bold(h->id) << " (head)" << (h->message.empty() ? "" : ", " + h->message) << "\n";
    if (hs.size() > 1) {
      try {
        (void)chain.head();
      } catch (const ConfigError& e) {
        err_ << yellow("warning: ") << e.what() << "\n";
      }
    }
    return exit_ok;
  }

  int stamp() {
    expect_args(1, 1, "one revision: an id, head or base");
    RevisionChain chain = directory().load();
    Migrator m = migrator(std::move(chain));
    m.stamp(a_.positional[0]);
    out_ << "Stamped the database as " << bold(label(m.current())) << " (no SQL of any revision was run)\n";
    return exit_ok;
  }

  int check() {
    expect_args(0, 0, "no arguments");
    RevisionChain chain = directory().load();
    Migrator m = migrator(chain);
    const Dialect d = m.dialect();
    auto changes = diff_schemas(m.live_schema(), models_.schema(d));
    auto cur = m.current();
    const Revision* head = chain.head();
    if (changes.empty()) {
      out_ << green("OK") << ": the database matches the models (at " << label(cur) << ")\n";
      if (head && cur != head->id)
        err_ << yellow("warning: ") << "the database is not at the head revision " << head->id << "\n";
      return exit_ok;
    }
    out_ << red("The database differs from the models") << " (" << changes.size() << " change"
         << (changes.size() == 1 ? "" : "s") << "):\n";
    for (const SchemaChange& c : changes) out_ << "  " << c.describe() << "\n";
    if (head && cur != head->id) out_ << "The database is at " << label(cur) << "; run `upgrade head` first.\n";
    else out_ << "Run `revision -m MESSAGE --autogenerate`, review it, then `upgrade head`.\n";
    return exit_failure;
  }

  const Args& a_;
  const MetaData& models_;
  std::ostream& out_;
  std::ostream& err_;
  bool colour_;
  std::optional<std::string> env_url_;
  bool config_loaded_ = false;
  std::optional<Config> config_;
  std::optional<Engine> engine_;
};

}  // namespace

int run(const std::vector<std::string>& args, const MetaData& models, const CliEnvironment& env) {
  std::ostream& err = env.err ? *env.err : std::cerr;
  CliEnvironment e = env;
  if (!e.out) e.out = &std::cout;
  e.err = &err;
  const bool colour = env.colour;
  auto red = [&](const std::string& t) { return colour ? "\033[31m" + t + "\033[0m" : t; };
  try {
    Args a = parse(args);
    if (a.help || a.command.empty() || a.command == "help") {
      (a.help || a.command == "help" ? *e.out : err) << usage(env.program);
      return a.command.empty() && !a.help ? exit_usage : exit_ok;
    }
    return Cli(a, models, e).dispatch();
  } catch (const UsageProblem& p) {
    err << red("error: ") << p.what() << "\n" << "run `" << env.program << " --help` for the commands and options\n";
    return exit_usage;
  } catch (const std::exception& x) {
    err << red("error: ") << x.what() << "\n";
    return exit_failure;
  }
}

int main(int argc, char** argv, const MetaData& models) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  CliEnvironment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.colour = ::isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
  if (const char* u = std::getenv(url_environment_variable)) env.database_url = u;
  if (argc > 0 && argv[0]) env.program = fs::path(argv[0]).filename().string();
  return run(args, models, env);
}

}  // namespace corm::migrate

#pragma once
// A PostgreSQL 15 cluster of a test's own, for tests that stop, restart or kill the server:
// doing that to CORM_TEST_PG would also cut the streaming standby the replica tests read from.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/test_db.hpp"

namespace corm::test {

inline std::string pg_bin() {
  const char* b = std::getenv("CORM_TEST_PG_BIN");
  return b != nullptr && *b != '\0' ? b : "/usr/lib/postgresql/15/bin";
}

inline std::string as_postgres(const std::string& cmd) {
  return (::geteuid() == 0 ? "runuser -u postgres -- " : "") + cmd;
}

inline int run_command(const std::string& cmd) { return std::system(cmd.c_str()); }

inline std::uint16_t free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

/// A PostgreSQL 15 cluster of this test's own (initdb into a temp dir, as scripts/lib/pg.sh
/// does), so stopping and restarting it never disturbs suites using CORM_TEST_PG.
class Cluster {
 public:
  Cluster() {
    dir_ = test::temp_dir() + "/pg";
    std::filesystem::create_directories(dir_ + "/sock");
    port_ = free_port();
    if (::geteuid() == 0) {
      run_command("chmod 755 " + std::filesystem::path(dir_).parent_path().string());
      run_command("chown -R postgres:postgres " + dir_);
    }
    REQUIRE(run_command(as_postgres(pg_bin() + "/initdb -D " + dir_ + "/data -U postgres -A trust --no-sync -E UTF8 >" +
                                    dir_ + "/initdb.log 2>&1")) == 0);
    std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
    conf << "listen_addresses = '127.0.0.1'\nport = " << port_ << "\nunix_socket_directories = '" << dir_
         << "/sock'\nmax_connections = 100\nfsync = off\nfull_page_writes = off\n";
    conf.close();
    start();
  }
  ~Cluster() {
    run_command(as_postgres(pg_bin() + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1"));
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::string url() const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres"; }
  void start() {
    REQUIRE(run_command(as_postgres(pg_bin() + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                                    "/server.log -w -t 60 start >/dev/null 2>&1")) == 0);
  }
  /// The shell command that restarts the cluster (`pg_ctl restart -m fast`), for a test that
  /// runs it while its own coroutines keep the server busy. Run it through as_postgres().
  std::string restart_command() const {
    return pg_bin() + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -m fast -w restart >/dev/null 2>&1";
  }
  /// mode: fast | immediate | smart.
  void stop(const std::string& mode) {
    REQUIRE(run_command(as_postgres(pg_bin() + "/pg_ctl -D " + dir_ + "/data -m " + mode + " -w stop >/dev/null 2>&1")) ==
            0);
  }

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
};

}  // namespace corm::test

// ReadWriteRouter on its own: the routing decisions without any database (the policy is I/O-free).

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "corm/ext/routing.hpp"

using corm::ext::ReadWriteRouter;
using corm::ext::Route;
using Role = corm::orm::StatementRole;

TEST_CASE("read/write router: reads go to the reader until a write or a locking read, until the transaction ends",
          "[ext][routing][unit]") {
  ReadWriteRouter r;
  CHECK(r.to_reader(Role::read));
  CHECK(r.last_route() == Route::reader);
  CHECK_FALSE(r.to_reader(Role::write));
  CHECK(r.has_written());
  CHECK_FALSE(r.to_reader(Role::read));  // read-your-writes
  r.transaction_ended();
  CHECK(r.to_reader(Role::read));
  CHECK_FALSE(r.to_reader(Role::read_for_write));
  CHECK_FALSE(r.to_reader(Role::read));  // the transaction holds row locks on the writer
  r.transaction_ended();
  CHECK(r.reader_statements() == 2);
  CHECK(r.writer_statements() == 4);
}

TEST_CASE("read/write router: a pin overrides reads only, and is restored when the pin ends", "[ext][routing][unit]") {
  ReadWriteRouter r;
  {
    corm::ext::RoutePin pin(r, Route::writer);
    CHECK_FALSE(r.to_reader(Role::read));
    {
      corm::ext::RoutePin inner(r, Route::reader);
      CHECK_FALSE(r.to_reader(Role::write));          // a write cannot run on a replica
      CHECK_FALSE(r.to_reader(Role::read_for_write));  // nor a locking read
      CHECK(r.to_reader(Role::read));                  // a plain read may, when asked
    }
    CHECK(r.pinned() == Route::writer);
  }
  CHECK_FALSE(r.pinned().has_value());
  CHECK_FALSE(r.to_reader(Role::read));  // the write above still counts for this transaction
}

// --- read-your-writes: positions, causal tokens and the router's decisions, without a server ---

using corm::Dialect;
using corm::ext::CausalTokenError;
using corm::ext::ReadYourWrites;
using corm::ext::ReplicaState;
using corm::ext::ReplicationPosition;

TEST_CASE("replication position: server text and causal token round-trip, comparison per LSN and per GTID domain",
          "[ext][routing][unit]") {
  auto lsn = ReplicationPosition::from_server_text(Dialect::postgresql, "16/B374D848");
  REQUIRE(lsn);
  CHECK(lsn->token() == "pg.16B374D848");
  CHECK(lsn->server_text() == "16/B374D848");
  CHECK(*ReplicationPosition::from_token("pg.16B374D848", Dialect::postgresql) == *lsn);
  CHECK(lsn->reached_by(*ReplicationPosition::from_server_text(Dialect::postgresql, "16/B374D848")));
  CHECK(lsn->reached_by(*ReplicationPosition::from_server_text(Dialect::postgresql, "17/0")));
  CHECK_FALSE(lsn->reached_by(*ReplicationPosition::from_server_text(Dialect::postgresql, "16/B374D847")));
  CHECK_FALSE(ReplicationPosition::from_server_text(Dialect::postgresql, "").has_value());  // NULL: not a standby

  auto gtid = ReplicationPosition::from_server_text(Dialect::mysql, "1-2-7,0-1-42");
  REQUIRE(gtid);
  CHECK(gtid->token() == "mariadb.0-1-42.1-2-7");  // sorted by domain
  CHECK(gtid->server_text() == "0-1-42,1-2-7");
  CHECK(*ReplicationPosition::from_token(gtid->token(), Dialect::mysql) == *gtid);
  // Per domain, the sequence decides; the server id does not (it changes on failover).
  CHECK(gtid->reached_by(*ReplicationPosition::from_server_text(Dialect::mysql, "0-9-42,1-2-8")));
  CHECK_FALSE(gtid->reached_by(*ReplicationPosition::from_server_text(Dialect::mysql, "0-1-42")));  // domain 1 missing
  CHECK_FALSE(gtid->reached_by(*ReplicationPosition::from_server_text(Dialect::mysql, "0-1-41,1-2-7")));
  auto merged = *ReplicationPosition::from_server_text(Dialect::mysql, "0-1-50");
  merged.merge(*gtid);
  CHECK(merged.server_text() == "0-1-50,1-2-7");
  CHECK_FALSE(ReplicationPosition::from_token("", Dialect::mysql).has_value());  // no token: nothing required
}

TEST_CASE("causal token: a malformed token, or one of another dialect, throws CausalTokenError saying what was wrong",
          "[ext][routing][unit]") {
  CHECK_THROWS_MATCHES(ReplicationPosition::from_token("pg.zz", Dialect::postgresql), CausalTokenError,
                       Catch::Message("causal token 'pg.zz' is malformed: expected 'pg.<hex LSN>', e.g. 'pg.3018CE0' "
                                      "(the string causal_token() returned, unchanged)"));
  CHECK_THROWS_MATCHES(ReplicationPosition::from_token("mariadb.0-1", Dialect::mysql), CausalTokenError,
                       Catch::Message("causal token 'mariadb.0-1' is malformed: expected "
                                      "'mariadb.<domain-server-sequence>[.…]', e.g. 'mariadb.0-1-42' (the string "
                                      "causal_token() returned, unchanged)"));
  CHECK_THROWS_MATCHES(ReplicationPosition::from_token("pg.3018CE0", Dialect::mysql), CausalTokenError,
                       Catch::Message("causal token 'pg.3018CE0' was written for PostgreSQL, but these engines are "
                                      "MariaDB: a token only works with the database that issued it"));
  CHECK_THROWS_MATCHES(ReplicationPosition::from_token("mariadb.0-1-42", Dialect::postgresql), CausalTokenError,
                       Catch::Message("causal token 'mariadb.0-1-42' was written for MariaDB, but these engines are "
                                      "PostgreSQL: a token only works with the database that issued it"));
  CHECK_THROWS_MATCHES(ReplicationPosition::from_token("pg.1\r\nX-Evil: 1", Dialect::postgresql), CausalTokenError,
                       Catch::Message("causal token (it has characters no token has) is malformed: expected "
                                      "'pg.<hex LSN>', e.g. 'pg.3018CE0' (the string causal_token() returned, "
                                      "unchanged)"));
  CHECK_THROWS_AS(ReplicationPosition::from_token("mariadb.0-1-2.0-1-3", Dialect::mysql), CausalTokenError);  // domain twice
  CHECK_THROWS_AS(ReplicationPosition::from_token("pg.-1", Dialect::postgresql), CausalTokenError);
  CHECK_THROWS_AS(ReplicationPosition::from_token("pg.10000000000000000", Dialect::postgresql), CausalTokenError);
  CHECK_THROWS_WITH(ReplicationPosition::from_token(std::string(600, 'a'), Dialect::postgresql),
                    Catch::StartsWith("causal token rejected: 600 characters, longer than any token corm writes"));
  CHECK_THROWS_WITH(ReplicationPosition::from_token("pg.1", Dialect::sqlite),
                    Catch::StartsWith("SQLite has no replication positions"));
}

TEST_CASE("read-your-writes router: after a commit, a read waits once for its position, else the writer answers, "
          "a position the replica is known to have replayed costs no probe",
          "[ext][routing][unit]") {
  auto replica = std::make_shared<ReplicaState>(ReadYourWrites{std::chrono::milliseconds(100)});
  ReadWriteRouter r(Dialect::postgresql, replica);
  CHECK(r.causal_token().empty());
  CHECK_FALSE(r.commit_probe().has_value());  // nothing written
  CHECK(r.to_reader(Role::read));
  CHECK_FALSE(r.reader_probe().has_value());  // nothing to wait for: no round trip

  CHECK_FALSE(r.to_reader(Role::write));
  auto commit = r.commit_probe();
  REQUIRE(commit);
  CHECK_THAT(commit->sql, Catch::Contains("pg_current_wal_lsn()"));
  r.committed(std::string("0/3000100"));
  r.transaction_ended();
  CHECK(r.causal_token() == "pg.3000100");

  CHECK(r.to_reader(Role::read));  // tentatively: the probe decides
  auto probe = r.reader_probe();
  REQUIRE(probe);
  REQUIRE(probe->params.size() == 2);
  CHECK(probe->params[0] == corm::Value("0/3000100"));
  CHECK(probe->params[1] == corm::Value(std::int64_t{50}));  // 100 ms in steps of 2 ms
  CHECK_FALSE(r.reader_ready(std::string("0/3000000")));  // timed out behind the commit
  CHECK(r.last_route() == Route::writer);
  CHECK(r.replica_waits_timed_out() == 1);
  CHECK_FALSE(r.to_reader(Role::read));  // one wait per position: the writer, no second probe
  CHECK_FALSE(r.reader_probe().has_value());

  // Another session of the pair, handed the token: one probe, which finds the replica there.
  ReadWriteRouter next(Dialect::postgresql, replica);
  next.require(r.causal_token());
  CHECK(next.to_reader(Role::read));
  REQUIRE(next.reader_probe());
  CHECK(next.reader_ready(std::string("0/3000200")));
  CHECK(next.last_route() == Route::reader);
  // What the pair learnt serves every session: the first router reads from the replica again.
  CHECK(r.to_reader(Role::read));
  CHECK_FALSE(r.reader_probe().has_value());
  ReadWriteRouter third(Dialect::postgresql, replica);
  third.require("pg.3000100");
  CHECK(third.to_reader(Role::read));
  CHECK_FALSE(third.reader_probe().has_value());
  CHECK(replica->stats().waits == 2);
  CHECK(replica->stats().waits_timed_out == 1);
  CHECK(replica->stats().commits == 1);

  // A pin to the reader accepts staleness: no probe.
  ReadWriteRouter pinned(Dialect::postgresql, replica);
  pinned.require("pg.FFFFFFFF");
  {
    corm::ext::RoutePin pin(pinned, Route::reader);
    CHECK(pinned.to_reader(Role::read));
    CHECK_FALSE(pinned.reader_probe().has_value());
  }
}

TEST_CASE("read-your-writes router: an unreadable commit position keeps reads on the writer, off keeps the old routing",
          "[ext][routing][unit]") {
  auto replica = std::make_shared<ReplicaState>();
  ReadWriteRouter r(Dialect::mysql, replica);
  CHECK_FALSE(r.to_reader(Role::write));
  REQUIRE(r.commit_probe());
  r.committed(std::string());  // @@last_gtid empty: no binary log on this connection
  r.transaction_ended();
  CHECK(r.position_unknown());
  CHECK_FALSE(r.to_reader(Role::read));

  auto off = std::make_shared<ReplicaState>(ReadYourWrites::off());
  ReadWriteRouter o(Dialect::mysql, off);
  CHECK_FALSE(o.to_reader(Role::write));
  CHECK_FALSE(o.commit_probe().has_value());
  o.transaction_ended();
  CHECK(o.to_reader(Role::read));
  CHECK_THROWS_AS(o.require("mariadb.0-1-1"), corm::UsageError);
  o.require("");  // no token: fine everywhere

  ReadWriteRouter sqlite(Dialect::sqlite, replica);
  CHECK_FALSE(sqlite.reads_your_writes());
  CHECK_FALSE(sqlite.to_reader(Role::write));
  CHECK_FALSE(sqlite.commit_probe().has_value());  // SQLite has no replicas
  CHECK_THROWS_WITH(sqlite.require("pg.1"), Catch::StartsWith("SQLite has no replication positions"));
}

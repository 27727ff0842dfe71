// ReadWriteRouter on its own: the routing decisions without any database (the policy is I/O-free).

#include <catch2/catch.hpp>

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

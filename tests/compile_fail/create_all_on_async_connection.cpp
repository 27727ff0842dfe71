// Must NOT compile: MetaData::create_all on an AsyncConnection would drop every awaitable it
// makes and create no table; the static_assert says what to write instead.
// expect: co_await corm::create_all\(conn, metadata\)
#include <corm/asyncio.hpp>

#include "model.inc"

void create(corm::AsyncConnection& conn) {
  corm::MetaData md;
  md.add<Pet>();
  md.create_all(conn);
}

int main() { return 0; }

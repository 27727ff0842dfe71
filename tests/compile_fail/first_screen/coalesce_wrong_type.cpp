// Must NOT compile, and g++ must say why on its first screen: a newcomer's program (the
// tutorial's headers) taking coalesce() of a text column with an integer fallback.
#include <cstdint>
#include <string>

#include <corm/asyncio.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

struct Book {
  std::int64_t id{};
  std::string title;
};
template <>
struct corm::Model<Book> {
  static constexpr auto table = corm::table("books", corm::column("id", &Book::id, corm::primary_key),
                                            corm::column("title", &Book::title));
};

int main() {
  auto e = corm::coalesce(corm::col(&Book::title), 5);
  (void)e;
  return 0;
}

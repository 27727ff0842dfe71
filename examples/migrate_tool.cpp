// The migration tool of an application: its models plus one line handing them to corm's command
// line. Build your own the same way, next to your models.
//
//   corm_migrate_tool init migrations
//   corm_migrate_tool --url sqlite:///app.db revision -m "create library" --autogenerate
//   corm_migrate_tool --url sqlite:///app.db upgrade head
//   corm_migrate_tool --url sqlite:///app.db check          (exit 1 when models and database differ)
//   corm_migrate_tool --url sqlite:///app.db downgrade -1
//   corm_migrate_tool --url postgresql://app@127.0.0.1/app upgrade head --sql   (print, run nothing)
//
// CORM_DATABASE_URL works instead of --url, and `url = ...` in corm-migrate.ini too.
#include <cstdint>
#include <optional>
#include <string>

#include <corm/migrate/cli.hpp>
#include <corm/sql.hpp>

namespace library {

struct Author {
  std::int64_t id{};
  std::string name;
  std::optional<std::string> email;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::optional<int> pages;
  std::int32_t stock{};
};

struct Tag {
  std::int64_t id{};
  std::string label;
};

}  // namespace library

template <>
struct corm::Model<library::Author> {
  using A = library::Author;
  static constexpr auto table = corm::table("authors",
                                            corm::column("id", &A::id, corm::primary_key, corm::identity),
                                            corm::column("name", &A::name, corm::max_length(100), corm::indexed),
                                            corm::column("email", &A::email, corm::unique));
};

template <>
struct corm::Model<library::Book> {
  using B = library::Book;
  static constexpr auto table = corm::table(
      "books",
      corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id, corm::references(&library::Author::id).on_delete(corm::FkAction::cascade)),
      corm::column("title", &B::title, corm::max_length(200), corm::server_default("'untitled'")),
      corm::column("pages", &B::pages),
      corm::column("stock", &B::stock, corm::server_default("0")),
      corm::index("ix_books_author_title", &B::author_id, &B::title).include(&B::pages),
      corm::unique_constraint(&B::author_id, &B::title));
};

template <>
struct corm::Model<library::Tag> {
  using T = library::Tag;
  static constexpr auto table = corm::table("tags",
                                            corm::column("id", &T::id, corm::primary_key, corm::identity),
                                            corm::column("label", &T::label, corm::max_length(40), corm::unique));
};

namespace {
const corm::MetaData& metadata() {
  static const corm::MetaData md = [] {
    corm::MetaData m;
    m.add<library::Author>().add<library::Book>().add<library::Tag>();
    return m;
  }();
  return md;
}
}  // namespace

int main(int argc, char** argv) { return corm::migrate::main(argc, argv, metadata()); }

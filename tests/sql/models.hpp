#pragma once
// Models shared by the sql tests: a small library (authors, books, tags through an association
// table, a one-to-one profile, a self-referencing employee table) plus a table with every column
// type and one whose names need quoting. Table names are fixed here; integration tests that
// must not collide use their own database (SQLite) or drop what they create (PostgreSQL).

#include <cstdint>
#include <optional>
#include <string>

#include "corm/sql.hpp"

namespace corm::test_models {

struct Book;
struct Profile;
struct Tag;

struct Author {
  std::int64_t id{};
  std::string name;
  std::optional<std::string> email;
  Many<Book> books;
  One<Profile> profile;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::optional<int> pages;
  std::int32_t version{};
  One<Author> author;
  Many<Tag> tags;
};

struct Profile {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string bio;
  One<Author> author;
};

struct Tag {
  std::int64_t id{};
  std::string label;
};

struct BookTag {
  std::int64_t book_id{};
  std::int64_t tag_id{};
};

struct Employee {
  std::int64_t id{};
  std::string name;
  std::optional<std::int64_t> boss_id;
};

// Names a hostile mapping might use: quotes and spaces must be quoted, never break the SQL.
struct Odd {
  std::int64_t id{};
  std::string value;
};

}  // namespace corm::test_models

template <>
struct corm::Model<corm::test_models::Author> {
  using A = corm::test_models::Author;
  using B = corm::test_models::Book;
  static constexpr auto table = corm::table(
      "authors",
      corm::column("id", &A::id, corm::primary_key, corm::identity),
      corm::column("name", &A::name, corm::max_length(100), corm::indexed),
      // Unique, so it needs a length: MySQL cannot index an unbounded string.
      corm::column("email", &A::email, corm::max_length(200), corm::unique),
      corm::has_many("books", &A::books, &B::author_id, corm::loader(corm::LoaderStrategy::selectin),
                     corm::cascade(corm::cascade_all_delete_orphan), corm::back_populates("author")),
      corm::has_one("profile", &A::profile, &corm::test_models::Profile::author_id));
};

template <>
struct corm::Model<corm::test_models::Book> {
  using B = corm::test_models::Book;
  static constexpr auto table = corm::table(
      "books",
      corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id,
                   corm::references(&corm::test_models::Author::id).on_delete(corm::FkAction::cascade)),
      corm::column("title", &B::title, corm::max_length(200), corm::default_value("untitled")),
      corm::column("pages", &B::pages, corm::check("pages > 0")),
      corm::column("version", &B::version, corm::version_counter, corm::server_default("1")),
      corm::belongs_to("author", &B::author, &B::author_id, corm::back_populates("books")),
      corm::many_to_many("tags", &B::tags, &corm::test_models::BookTag::book_id,
                         &corm::test_models::BookTag::tag_id),
      corm::index("ix_books_author_title", &B::author_id, &B::title).include(&B::pages),
      corm::unique_constraint(&B::author_id, &B::title));
};

template <>
struct corm::Model<corm::test_models::Profile> {
  using P = corm::test_models::Profile;
  static constexpr auto table = corm::table(
      "profiles",
      corm::column("id", &P::id, corm::primary_key, corm::identity),
      corm::column("author_id", &P::author_id, corm::unique, corm::references(&corm::test_models::Author::id)),
      corm::column("bio", &P::bio),
      corm::belongs_to("author", &P::author, &P::author_id));
};

template <>
struct corm::Model<corm::test_models::Tag> {
  using T = corm::test_models::Tag;
  static constexpr auto table = corm::table("tags",
                                            corm::column("id", &T::id, corm::primary_key, corm::identity),
                                            corm::column("label", &T::label, corm::max_length(100), corm::unique));
};

template <>
struct corm::Model<corm::test_models::BookTag> {
  using BT = corm::test_models::BookTag;
  static constexpr auto table = corm::table(
      "book_tags",
      corm::column("book_id", &BT::book_id, corm::primary_key,
                   corm::references(&corm::test_models::Book::id).on_delete(corm::FkAction::cascade)),
      corm::column("tag_id", &BT::tag_id, corm::primary_key,
                   corm::references(&corm::test_models::Tag::id).on_delete(corm::FkAction::cascade)));
};

template <>
struct corm::Model<corm::test_models::Employee> {
  using E = corm::test_models::Employee;
  static constexpr auto table = corm::table(
      "employees",
      corm::column("id", &E::id, corm::primary_key, corm::identity),
      corm::column("name", &E::name),
      corm::column("boss_id", &E::boss_id, corm::references(&E::id).on_delete(corm::FkAction::set_null)));
};

template <>
struct corm::Model<corm::test_models::Odd> {
  using O = corm::test_models::Odd;
  static constexpr auto table = corm::table("odd \"table\"",
                                            corm::column("id", &O::id, corm::primary_key),
                                            corm::column("va\"lue", &O::value));
};

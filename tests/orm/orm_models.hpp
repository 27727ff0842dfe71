#pragma once
// Models of the ORM tests: authors with books with reviews (loaders, N+1, flush order),
// versioned documents (optimistic locking), counters (locking reads), parents owning children
// (cascade delete / delete-orphan).

#include <cstdint>
#include <optional>
#include <string>

#include "corm/sql.hpp"

namespace corm::orm_test {

struct Book;
struct Review;
struct Child;
struct Tag;

struct Author {
  std::int64_t id{};
  std::string name;
  Many<Book> books;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::optional<int> pages;
  One<Author> author;
  Many<Review> reviews;
  Many<Tag> tags;
};

struct Tag {
  std::int64_t id{};
  std::string label;
};

struct BookTag {
  std::int64_t book_id{};
  std::int64_t tag_id{};
};

struct Review {
  std::int64_t id{};
  std::int64_t book_id{};
  int stars{};
};

struct Doc {
  std::int64_t id{};
  std::string body;
  std::int32_t version{};
};

// Columns the client fills (default_value) and the database fills (server_default).
struct Note {
  std::int64_t id{};
  std::string title;
  std::string status;
  std::string body;
};

struct Counter {
  std::int64_t id{};
  std::int64_t value{};
};

struct Parent {
  std::int64_t id{};
  std::string name;
  Many<Child> children;
};

struct Child {
  std::int64_t id{};
  std::int64_t parent_id{};
  std::string name;
};

}  // namespace corm::orm_test

template <>
struct corm::Model<corm::orm_test::Author> {
  using A = corm::orm_test::Author;
  static constexpr auto table = corm::table("orm_authors", corm::column("id", &A::id, corm::primary_key, corm::identity),
                                            corm::column("name", &A::name),
                                            corm::has_many("books", &A::books, &corm::orm_test::Book::author_id,
                                                           corm::back_populates("author")));
};

template <>
struct corm::Model<corm::orm_test::Book> {
  using B = corm::orm_test::Book;
  static constexpr auto table = corm::table(
      "orm_books", corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id, corm::references(&corm::orm_test::Author::id), corm::indexed),
      corm::column("title", &B::title), corm::column("pages", &B::pages),
      corm::belongs_to("author", &B::author, &B::author_id, corm::back_populates("books")),
      corm::has_many("reviews", &B::reviews, &corm::orm_test::Review::book_id),
      corm::many_to_many("tags", &B::tags, &corm::orm_test::BookTag::book_id, &corm::orm_test::BookTag::tag_id));
};

template <>
struct corm::Model<corm::orm_test::Tag> {
  using T = corm::orm_test::Tag;
  static constexpr auto table = corm::table("orm_tags", corm::column("id", &T::id, corm::primary_key, corm::identity),
                                            corm::column("label", &T::label));
};

template <>
struct corm::Model<corm::orm_test::BookTag> {
  using BT = corm::orm_test::BookTag;
  static constexpr auto table = corm::table(
      "orm_book_tags", corm::column("book_id", &BT::book_id, corm::primary_key, corm::references(&corm::orm_test::Book::id)),
      corm::column("tag_id", &BT::tag_id, corm::primary_key, corm::references(&corm::orm_test::Tag::id)));
};

template <>
struct corm::Model<corm::orm_test::Review> {
  using R = corm::orm_test::Review;
  static constexpr auto table = corm::table(
      "orm_reviews", corm::column("id", &R::id, corm::primary_key, corm::identity),
      corm::column("book_id", &R::book_id, corm::references(&corm::orm_test::Book::id), corm::indexed),
      corm::column("stars", &R::stars));
};

template <>
struct corm::Model<corm::orm_test::Doc> {
  using D = corm::orm_test::Doc;
  static constexpr auto table = corm::table("orm_docs", corm::column("id", &D::id, corm::primary_key, corm::identity),
                                            corm::column("body", &D::body),
                                            corm::column("version", &D::version, corm::version_counter));
};

template <>
struct corm::Model<corm::orm_test::Note> {
  using N = corm::orm_test::Note;
  static constexpr auto table = corm::table("orm_notes", corm::column("id", &N::id, corm::primary_key, corm::identity),
                                            corm::column("title", &N::title, corm::default_value("untitled")),
                                            corm::column("status", &N::status, corm::server_default("'draft'")),
                                            corm::column("body", &N::body));
};

template <>
struct corm::Model<corm::orm_test::Counter> {
  using C = corm::orm_test::Counter;
  static constexpr auto table = corm::table("orm_counters", corm::column("id", &C::id, corm::primary_key),
                                            corm::column("value", &C::value));
};

template <>
struct corm::Model<corm::orm_test::Parent> {
  using P = corm::orm_test::Parent;
  static constexpr auto table = corm::table(
      "orm_parents", corm::column("id", &P::id, corm::primary_key, corm::identity), corm::column("name", &P::name),
      corm::has_many("children", &P::children, &corm::orm_test::Child::parent_id,
                     corm::cascade(corm::cascade_all_delete_orphan)));
};

template <>
struct corm::Model<corm::orm_test::Child> {
  using C = corm::orm_test::Child;
  static constexpr auto table = corm::table(
      "orm_children", corm::column("id", &C::id, corm::primary_key, corm::identity),
      corm::column("parent_id", &C::parent_id, corm::references(&corm::orm_test::Parent::id)),
      corm::column("name", &C::name));
};

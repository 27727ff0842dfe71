#pragma once
// Two versions of one application's models, as a migration sees them: v1, then v2 after a
// release changed them. v2 adds a table (mig_tags), a column (mig_books.rating, NOT NULL with a
// default), an index (ix_mig_books_rating) and a unique constraint (mig_authors.name), and drops
// a table (mig_notes) and a column (mig_authors.legacy_code). On SQLite the unique constraint and
// the dropped column make mig_authors a copy-and-move rebuild.

#include <cstdint>
#include <optional>
#include <string>

#include "corm/sql.hpp"

namespace corm::test_migrate {

namespace v1 {
struct Author {
  std::int64_t id{};
  std::string name;
  std::optional<std::string> email;
  std::optional<std::string> legacy_code;  // last, so re-adding it restores the column order
};
struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::optional<int> pages;
};
struct Note {
  std::int64_t id{};
  std::string body;
};
}  // namespace v1

namespace v2 {
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
  std::int32_t rating{};
};
struct Tag {
  std::int64_t id{};
  std::string label;
};
}  // namespace v2

/// A model of its own for the failure and branch tests (never migrated by autogenerate).
struct Widget {
  std::int64_t id{};
  std::string label;
};

}  // namespace corm::test_migrate

template <>
struct corm::Model<corm::test_migrate::v1::Author> {
  using A = corm::test_migrate::v1::Author;
  static constexpr auto table = corm::table("mig_authors",
                                            corm::column("id", &A::id, corm::primary_key, corm::identity),
                                            corm::column("name", &A::name, corm::max_length(100), corm::indexed),
                                            corm::column("email", &A::email, corm::unique),
                                            corm::column("legacy_code", &A::legacy_code));
};

template <>
struct corm::Model<corm::test_migrate::v1::Book> {
  using B = corm::test_migrate::v1::Book;
  static constexpr auto table = corm::table(
      "mig_books",
      corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id,
                   corm::references(&corm::test_migrate::v1::Author::id).on_delete(corm::FkAction::cascade)),
      corm::column("title", &B::title, corm::max_length(200), corm::server_default("'untitled'")),
      corm::column("pages", &B::pages),
      corm::index("ix_mig_books_author_title", &B::author_id, &B::title).include(&B::pages),
      corm::unique_constraint(&B::author_id, &B::title));
};

template <>
struct corm::Model<corm::test_migrate::v1::Note> {
  using N = corm::test_migrate::v1::Note;
  static constexpr auto table = corm::table("mig_notes", corm::column("id", &N::id, corm::primary_key),
                                            corm::column("body", &N::body));
};

template <>
struct corm::Model<corm::test_migrate::v2::Author> {
  using A = corm::test_migrate::v2::Author;
  static constexpr auto table = corm::table("mig_authors",
                                            corm::column("id", &A::id, corm::primary_key, corm::identity),
                                            corm::column("name", &A::name, corm::max_length(100), corm::indexed),
                                            corm::column("email", &A::email, corm::unique),
                                            corm::unique_constraint(&A::name));
};

template <>
struct corm::Model<corm::test_migrate::v2::Book> {
  using B = corm::test_migrate::v2::Book;
  static constexpr auto table = corm::table(
      "mig_books",
      corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id,
                   corm::references(&corm::test_migrate::v2::Author::id).on_delete(corm::FkAction::cascade)),
      corm::column("title", &B::title, corm::max_length(200), corm::server_default("'untitled'")),
      corm::column("pages", &B::pages),
      corm::column("rating", &B::rating, corm::server_default("0")),
      corm::index("ix_mig_books_author_title", &B::author_id, &B::title).include(&B::pages),
      corm::index("ix_mig_books_rating", &B::rating),
      corm::unique_constraint(&B::author_id, &B::title));
};

template <>
struct corm::Model<corm::test_migrate::v2::Tag> {
  using T = corm::test_migrate::v2::Tag;
  static constexpr auto table = corm::table("mig_tags",
                                            corm::column("id", &T::id, corm::primary_key, corm::identity),
                                            corm::column("label", &T::label, corm::max_length(40), corm::unique));
};

template <>
struct corm::Model<corm::test_migrate::Widget> {
  using W = corm::test_migrate::Widget;
  static constexpr auto table = corm::table("mig_widgets", corm::column("id", &W::id, corm::primary_key),
                                            corm::column("label", &W::label));
};

namespace corm::test_migrate {

inline const MetaData& models_v1() {
  static const MetaData md = [] {
    MetaData m;
    m.add<v1::Author>().add<v1::Book>().add<v1::Note>();
    return m;
  }();
  return md;
}

inline const MetaData& models_v2() {
  static const MetaData md = [] {
    MetaData m;
    m.add<v2::Author>().add<v2::Book>().add<v2::Tag>();
    return m;
  }();
  return md;
}

inline const MetaData& no_models() {
  static const MetaData md;
  return md;
}

}  // namespace corm::test_migrate

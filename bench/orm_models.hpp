#pragma once
// The benchmark schema (bench/data/schema.sql) mapped for the ORM peers.

#include <corm/corm.hpp>
#include <corm/sql.hpp>

#include <cstdint>
#include <string>

namespace bench::orm {

struct Book;

struct Author {
  std::int64_t id{};
  std::string name;
  std::string email;
  corm::Timestamp created_at;
  corm::Many<Book> books;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::int32_t pages{};
  corm::Decimal price;
  corm::Timestamp published_at;
};

struct Item {
  std::int64_t id{};
  std::int32_t c_int{};
  std::int64_t c_bigint{};
  std::string c_text;
  std::string c_varchar;
  corm::Decimal c_numeric;
  double c_float{};
  bool c_bool{};
  corm::Timestamp c_ts;
  corm::Date c_date;
  corm::Uuid c_uuid;
};

struct Counter {
  std::int32_t id{};
  std::int64_t value{};
};

}  // namespace bench::orm

template <>
struct corm::Model<bench::orm::Author> {
  using A = bench::orm::Author;
  static constexpr auto table = corm::table(
      "authors", corm::column("id", &A::id, corm::primary_key, corm::identity), corm::column("name", &A::name),
      corm::column("email", &A::email), corm::column("created_at", &A::created_at),
      corm::has_many("books", &A::books, &bench::orm::Book::author_id));
};

template <>
struct corm::Model<bench::orm::Book> {
  using B = bench::orm::Book;
  static constexpr auto table = corm::table(
      "books", corm::column("id", &B::id, corm::primary_key, corm::identity),
      corm::column("author_id", &B::author_id, corm::references(&bench::orm::Author::id)),
      corm::column("title", &B::title), corm::column("pages", &B::pages), corm::column("price", &B::price),
      corm::column("published_at", &B::published_at));
};

template <>
struct corm::Model<bench::orm::Item> {
  using I = bench::orm::Item;
  static constexpr auto table = corm::table(
      "items", corm::column("id", &I::id, corm::primary_key, corm::identity), corm::column("c_int", &I::c_int),
      corm::column("c_bigint", &I::c_bigint), corm::column("c_text", &I::c_text),
      corm::column("c_varchar", &I::c_varchar), corm::column("c_numeric", &I::c_numeric),
      corm::column("c_float", &I::c_float), corm::column("c_bool", &I::c_bool), corm::column("c_ts", &I::c_ts),
      corm::column("c_date", &I::c_date), corm::column("c_uuid", &I::c_uuid));
};

template <>
struct corm::Model<bench::orm::Counter> {
  using C = bench::orm::Counter;
  static constexpr auto table = corm::table("counters", corm::column("id", &C::id, corm::primary_key),
                                            corm::column("value", &C::value));
};

#pragma once
// The models the guides' fragments use without declaring them: authors, books, reviews and tags
// (docs/mapping.md shows the mapping in full), a counter, a product with its service, and the
// request/response types of a web handler.
#include "context.hpp"

struct Book;
struct Review;
struct Tag;

struct Author {
  std::int64_t id{};
  std::string name;
  std::optional<std::string> email;
  corm::Many<Book> books;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  std::optional<int> pages;
  corm::One<Author> author;
  corm::Many<Review> reviews;
  corm::Many<Tag> tags;
};

struct Review {
  std::int64_t id{};
  std::int64_t book_id{};
  int stars{};
};

struct Tag {
  std::int64_t id{};
  std::string name;
};

struct BookTag {
  std::int64_t book_id{};
  std::int64_t tag_id{};
};

struct Counter {
  std::int64_t id{};
  std::int64_t value{};
};

struct Product {
  std::int64_t id{};
  std::string name;
  std::int64_t price{};
  bool is_deleted = false;
};

template <>
struct corm::Model<Author> {
  static constexpr auto table = corm::table(
      "authors", corm::column("id", &Author::id, corm::primary_key, corm::identity),
      corm::column("name", &Author::name, corm::max_length(100)), corm::column("email", &Author::email),
      corm::has_many("books", &Author::books, &Book::author_id, corm::back_populates("author")));
};

template <>
struct corm::Model<Book> {
  static constexpr auto table = corm::table(
      "books", corm::column("id", &Book::id, corm::primary_key, corm::identity),
      corm::column("author_id", &Book::author_id, corm::references(&Author::id)),
      corm::column("title", &Book::title, corm::max_length(200)), corm::column("pages", &Book::pages),
      corm::belongs_to("author", &Book::author, &Book::author_id, corm::back_populates("books")),
      corm::has_many("reviews", &Book::reviews, &Review::book_id),
      corm::many_to_many("tags", &Book::tags, &BookTag::book_id, &BookTag::tag_id),
      corm::unique_constraint(&Book::author_id, &Book::title));
};

template <>
struct corm::Model<Review> {
  static constexpr auto table = corm::table(
      "reviews", corm::column("id", &Review::id, corm::primary_key, corm::identity),
      corm::column("book_id", &Review::book_id, corm::references(&Book::id)), corm::column("stars", &Review::stars));
};

template <>
struct corm::Model<Tag> {
  static constexpr auto table = corm::table("tags", corm::column("id", &Tag::id, corm::primary_key, corm::identity),
                                            corm::column("name", &Tag::name, corm::max_length(50)));
};

template <>
struct corm::Model<BookTag> {
  static constexpr auto table = corm::table(
      "book_tags", corm::column("book_id", &BookTag::book_id, corm::primary_key, corm::references(&Book::id)),
      corm::column("tag_id", &BookTag::tag_id, corm::primary_key, corm::references(&Tag::id)));
};

template <>
struct corm::Model<Counter> {
  static constexpr auto table = corm::table("counters",
                                            corm::column("id", &Counter::id, corm::primary_key, corm::identity),
                                            corm::column("value", &Counter::value));
};

template <>
struct corm::Model<Product> {
  static constexpr auto table = corm::table(
      "products", corm::column("id", &Product::id, corm::primary_key, corm::identity),
      corm::column("name", &Product::name, corm::max_length(100), corm::unique),
      corm::column("price", &Product::price), corm::column("is_deleted", &Product::is_deleted));
};

/// A domain error a repository raises.
struct DuplicateProduct : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A web handler's request and response, and a service that handles one request on one session.
struct Request {};
struct Response {};
class ProductService {
 public:
  explicit ProductService(corm::AsyncSession& session);
  asio::awaitable<Response> handle(const Request& request);
};

// The flagship: one blog listing — 100 authors, each with 10 books, each with 2 reviews — loaded
// four ways, with the statements each way cost counted through the engine's before_execute
// event:
//
//   lazy                 1 query for the authors + 1 per author on first access = 101
//   selectinload         authors, then every author's books in one IN query     = 2
//   joinedload           authors LEFT OUTER JOIN books                          = 1
//   nested selectinload  authors, books, reviews                                = 3
//
// The lazy run also trips the session's N+1 detector, whose warning names the fix.
//
//   ./scripts/demo                                (SQLite file in a temp directory)
//   ./scripts/demo postgresql://user@host/db      (a schema of its own, dropped afterwards)

#include <corm/corm.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "example_db.hpp"

struct Book;
struct Review;

struct Author {
  std::int64_t id{};
  std::string name;
  corm::Many<Book> books;
};

struct Book {
  std::int64_t id{};
  std::int64_t author_id{};
  std::string title;
  corm::Many<Review> reviews;
};

struct Review {
  std::int64_t id{};
  std::int64_t book_id{};
  int stars{};
};

template <>
struct corm::Model<Author> {
  static constexpr auto table = corm::table("blog_authors", corm::column("id", &Author::id, corm::primary_key, corm::identity),
                                            corm::column("name", &Author::name, corm::max_length(100)),
                                            corm::has_many("books", &Author::books, &Book::author_id));
};

template <>
struct corm::Model<Book> {
  static constexpr auto table = corm::table(
      "blog_books", corm::column("id", &Book::id, corm::primary_key, corm::identity),
      corm::column("author_id", &Book::author_id, corm::references(&Author::id), corm::indexed),
      corm::column("title", &Book::title), corm::has_many("reviews", &Book::reviews, &Review::book_id));
};

template <>
struct corm::Model<Review> {
  static constexpr auto table = corm::table(
      "blog_reviews", corm::column("id", &Review::id, corm::primary_key, corm::identity),
      corm::column("book_id", &Review::book_id, corm::references(&Book::id), corm::indexed),
      corm::column("stars", &Review::stars));
};

namespace {

void seed(corm::Engine& engine) {
  corm::Session s(engine);
  for (int a = 0; a < 100; ++a) {
    auto author = std::make_shared<Author>();
    author->name = "author " + std::to_string(a);
    s.add(author);  // tracked: its collections read as empty, ready for push_back
    for (int b = 0; b < 10; ++b) {
      auto book = std::make_shared<Book>();
      book->title = "book " + std::to_string(a) + "." + std::to_string(b);
      s.add(book);  // tracked too, so its reviews collection is ready for push_back
      author->books.push_back(book);
      for (int r = 0; r < 2; ++r) {
        auto review = std::make_shared<Review>();
        review->stars = 1 + (a + b + r) % 5;
        book->reviews.push_back(review);
      }
    }
  }
  s.commit();  // parents first, keys wired from RETURNING
}

/// The listing itself: what a page of the blog shows.
struct Listing {
  std::size_t authors = 0, books = 0, reviews = 0;
};

template <class... Opts>
Listing list(corm::Session& s, bool with_reviews, const Opts&... options) {
  Listing l;
  auto authors = s.scalars(corm::select<Author>().order_by(corm::col(&Author::id)), options...);
  for (const auto& a : authors) {
    ++l.authors;
    for (const auto& b : a->books) {  // lazy: the first access of each author's books is a query
      ++l.books;
      if (with_reviews) l.reviews += b->reviews.size();
    }
  }
  return l;
}

void report(const char* strategy, int queries, const Listing& l) {
  std::cout << strategy << " queries=" << queries << "  (authors=" << l.authors << " books=" << l.books;
  if (l.reviews) std::cout << " reviews=" << l.reviews;
  std::cout << ")\n";
}

}  // namespace

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("blog", args.url);
  corm::EngineOptions options;
  // The N+1 detector warns through the engine's log sink; print it with the rest.
  options.log = [](corm::LogLevel level, std::string_view line) {
    if (level >= corm::LogLevel::warning) std::cout << "warning: " << line << "\n";
  };
  corm::Engine engine = corm::create_engine(db.url(), options);
  std::cout << "blog on " << corm::dialect_name(engine.dialect()) << ": 100 authors x 10 books x 2 reviews\n";
  {
    corm::MetaData md;
    md.add<Author>().add<Book>().add<Review>();
    auto c = engine.connect();
    md.create_all(c);
    c.commit();
  }
  seed(engine);

  example::QueryCounter<corm::Engine> counter(engine);
  {
    corm::Session s(engine);
    Listing l = list(s, false);
    report("lazy", counter.take(), l);
  }
  {
    corm::Session s(engine);
    Listing l = list(s, false, corm::selectinload(&Author::books));
    report("selectinload", counter.take(), l);
  }
  {
    corm::Session s(engine);
    Listing l = list(s, false, corm::joinedload(&Author::books));
    report("joinedload", counter.take(), l);
  }
  {
    corm::Session s(engine);
    Listing l = list(s, true, corm::selectinload(&Author::books).selectinload(&Book::reviews));
    report("nested-selectinload", counter.take(), l);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "blog example failed: " << e.what() << "\n";
  return 1;
}

#pragma once
// The review service's data access and business rules, in two layers: ReviewRepository (queries
// and the domain's integrity errors) and ReviewService (units of work and their boundaries).
// Everything goes through a SessionFactory, so the same code runs on one database or routed
// over a primary and a replica.

#include <corm/asyncio.hpp>
#include <corm/ext.hpp>
#include <corm/orm.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "model.hpp"

namespace reviews {

namespace asio = boost::asio;

/// The user has reviewed this product already (the unique index said so).
struct DuplicateReview : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A review the service refuses (rating out of range, an image without a URL).
struct InvalidReview : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ReviewRepository : public corm::ext::AsyncRepository<Review> {
 public:
  using AsyncRepository::AsyncRepository;

  /// One page of a user's visible reviews, newest first, each with its images: two statements.
  asio::awaitable<std::vector<std::shared_ptr<Review>>> page_for_user(std::int64_t user_id, int page, int per_page) {
    co_return co_await mapped(session().scalars(query()
                                                    .where(corm::col(&Review::user_id) == user_id)
                                                    .order_by(corm::col(&Review::created_at).desc(),
                                                              corm::col(&Review::id).desc())
                                                    .limit(per_page)
                                                    .offset(std::int64_t{page} * per_page),
                                                corm::selectinload(&Review::images)));
  }

 protected:
  void on_integrity_error(const corm::IntegrityError& e) override {
    if (e.is_unique_violation()) throw DuplicateReview("this user has already reviewed this product");
  }
};

/// What a new review carries.
struct NewReview {
  std::int64_t user_id = 0;
  std::int64_t product_id = 0;
  int rating = 0;
  std::string body;
  std::vector<std::string> image_urls;
};

class ReviewService {
 public:
  explicit ReviewService(corm::ext::AsyncSessionFactory sessions) : sessions_(std::move(sessions)) {}

  /// Creates a review and its images as one unit: all of it is committed, or none of it.
  asio::awaitable<std::int64_t> create_review(NewReview r) {
    co_return co_await corm::ext::transactional(sessions_, [&](corm::AsyncSession& s) -> asio::awaitable<std::int64_t> {
      co_return co_await create_in(s, r);
    });
  }

  /// The same unit inside a transaction the caller owns (REQUIRED: it joins `current`).
  asio::awaitable<std::int64_t> create_in(corm::AsyncSession& s, const NewReview& r) {
    if (r.rating < 1 || r.rating > 5) throw InvalidReview("a rating is 1 to 5 stars");
    ReviewRepository repo(s);
    auto review = std::make_shared<Review>();
    review->user_id = r.user_id;
    review->product_id = r.product_id;
    review->rating = r.rating;
    review->body = r.body;
    review->created_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    co_await repo.create(review);  // flushed: the review's row exists in this transaction now
    for (const std::string& url : r.image_urls) {
      if (url.empty()) throw InvalidReview("an image needs a URL");  // rolls the review back too
      auto image = std::make_shared<ReviewImage>();
      image->url = url;
      review->images.push_back(image);
    }
    co_await s.flush();
    co_return review->id;
  }

  /// A page of a user's reviews from a read-only session (a replica's, when routed).
  asio::awaitable<std::vector<std::shared_ptr<Review>>> listing(std::int64_t user_id, int page, int per_page) {
    corm::ext::TxOptions ro;
    ro.read_only = true;
    co_return co_await corm::ext::transactional(
        sessions_,
        [&](corm::AsyncSession& s) -> asio::awaitable<std::vector<std::shared_ptr<Review>>> {
          ReviewRepository repo(s);
          co_return co_await repo.page_for_user(user_id, page, per_page);
        },
        ro);
  }

  /// Whether a user qualifies as a trusted reviewer: at least `min_reviews` visible reviews of
  /// distinct products, averaging 3 stars or more. Read-only, in one session: the product of
  /// every review is looked up by primary key, and a product seen before costs no query.
  asio::awaitable<bool> qualifies(corm::AsyncSession& s, std::int64_t user_id, std::size_t min_reviews) {
    ReviewRepository repo(s);
    auto mine = co_await repo.find(corm::col(&Review::user_id) == user_id);
    std::size_t distinct = 0;
    int stars = 0;
    std::vector<const Product*> seen;
    for (const auto& r : mine) {
      auto p = co_await s.get<Product>(r->product_id);  // identity map first
      if (!p) continue;
      stars += r->rating;
      bool again = false;
      for (const Product* q : seen) again = again || q == p.get();
      if (!again) {
        seen.push_back(p.get());
        ++distinct;
      }
    }
    co_return distinct >= min_reviews && !mine.empty() && stars >= 3 * static_cast<int>(mine.size());
  }

  /// Soft-deletes a review: it disappears from listings, its row stays.
  asio::awaitable<void> remove(std::int64_t review_id) {
    co_await corm::ext::transactional(sessions_, [&](corm::AsyncSession& s) -> asio::awaitable<void> {
      ReviewRepository repo(s);
      auto r = co_await repo.get_by_id(review_id);
      if (r) co_await repo.delete_(r);
    });
  }

  const corm::ext::AsyncSessionFactory& sessions() const noexcept { return sessions_; }

 private:
  corm::ext::AsyncSessionFactory sessions_;
};

}  // namespace reviews

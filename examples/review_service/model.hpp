#pragma once
// The review service's tables: users write reviews of products, each review with its images.
// Reviews are soft-deleted (is_deleted), and a user reviews a product at most once.

#include <corm/sql.hpp>

#include <cstdint>
#include <string>

namespace reviews {

struct ReviewImage;

struct User {
  std::int64_t id{};
  std::string name;
};

struct Product {
  std::int64_t id{};
  std::string title;
};

struct Review {
  std::int64_t id{};
  std::int64_t user_id{};
  std::int64_t product_id{};
  int rating{};
  std::string body;
  corm::Timestamp created_at{};
  bool is_deleted = false;
  corm::Many<ReviewImage> images;
};

struct ReviewImage {
  std::int64_t id{};
  std::int64_t review_id{};
  std::string url;
};

}  // namespace reviews

template <>
struct corm::Model<reviews::User> {
  using U = reviews::User;
  static constexpr auto table = corm::table("rs_users", corm::column("id", &U::id, corm::primary_key, corm::identity),
                                            corm::column("name", &U::name, corm::max_length(80)));
};

template <>
struct corm::Model<reviews::Product> {
  using P = reviews::Product;
  static constexpr auto table = corm::table("rs_products", corm::column("id", &P::id, corm::primary_key, corm::identity),
                                            corm::column("title", &P::title, corm::max_length(120)));
};

template <>
struct corm::Model<reviews::Review> {
  using R = reviews::Review;
  static constexpr auto table = corm::table(
      "rs_reviews", corm::column("id", &R::id, corm::primary_key, corm::identity),
      corm::column("user_id", &R::user_id, corm::references(&reviews::User::id)),
      corm::column("product_id", &R::product_id, corm::references(&reviews::Product::id)),
      corm::column("rating", &R::rating), corm::column("body", &R::body),
      corm::column("created_at", &R::created_at), corm::column("is_deleted", &R::is_deleted),
      corm::has_many("images", &R::images, &reviews::ReviewImage::review_id),
      // The listing's access path: one user's reviews, newest first.
      corm::index("ix_rs_reviews_user_created", &R::user_id, &R::created_at),
      corm::unique_index("uq_rs_reviews_user_product", &R::user_id, &R::product_id));
};

template <>
struct corm::Model<reviews::ReviewImage> {
  using I = reviews::ReviewImage;
  static constexpr auto table = corm::table(
      "rs_review_images", corm::column("id", &I::id, corm::primary_key, corm::identity),
      corm::column("review_id", &I::review_id, corm::references(&reviews::Review::id), corm::indexed),
      corm::column("url", &I::url, corm::max_length(200)));
};

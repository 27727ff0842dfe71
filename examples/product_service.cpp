// A product service in three layers: a router that turns requests into service
// calls and domain errors into status codes, a service that holds the business rules and the
// transaction boundaries, and a repository — a domain subclass of AsyncRepository<Product> with its
// own queries, soft delete, and unique violations mapped to the domain's DuplicateProduct. Each
// request runs in its own scope with one session, removed when the request ends.
// Layers only call downward: the router never sees a session's SQL, the repository never sees a
// request.
//
//   product_service [URL | --url-env NAME]        (default: a SQLite file in a temp directory)

#include <corm/asyncio.hpp>
#include <corm/ext/repository.hpp>
#include <corm/ext/async_repository.hpp>
#include <corm/ext/scoped_session.hpp>
#include <corm/ext/async_scoped_session.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <sstream>
#include <stdexcept>

#include "example_db.hpp"

namespace asio = boost::asio;
using corm::col;

// ---- model ----
struct Product {
  std::int64_t id{};
  std::string name;
  std::int64_t price{};
  bool is_deleted = false;  // soft delete: the repository filters and sets it
};

template <>
struct corm::Model<Product> {
  static constexpr auto table = corm::table("shop_products", corm::column("id", &Product::id, corm::primary_key, corm::identity),
                                            corm::column("name", &Product::name, corm::unique, corm::max_length(80)),
                                            corm::column("price", &Product::price),
                                            corm::column("is_deleted", &Product::is_deleted));
};

// ---- domain errors ----
struct DuplicateProduct : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct InvalidProduct : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ProductNotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- repository: data access only ----
class ProductRepository : public corm::ext::AsyncRepository<Product> {
 public:
  using AsyncRepository::AsyncRepository;
  /// The domain's own query: products up to a price, cheapest first.
  asio::awaitable<std::vector<std::shared_ptr<Product>>> priced_up_to(std::int64_t max_price) {
    co_return co_await mapped(
        session().scalars(query().where(col(&Product::price) <= max_price).order_by(col(&Product::price))));
  }

 protected:
  void on_integrity_error(const corm::IntegrityError& e) override {
    if (e.is_unique_violation()) throw DuplicateProduct("a product with this name exists already");
  }
};

// ---- service: business rules and transaction boundaries ----
class ProductService {
 public:
  explicit ProductService(corm::AsyncSession& s) : session_(s), products_(s) {}

  asio::awaitable<std::shared_ptr<Product>> create(std::string name, std::int64_t price) {
    if (name.empty()) throw InvalidProduct("name must not be empty");
    if (price <= 0) throw InvalidProduct("price must be positive, got " + std::to_string(price));
    auto tx = co_await session_.begin();  // destroyed uncommitted (an error): rolled back
    auto p = std::make_shared<Product>();
    p->name = std::move(name);
    p->price = price;
    co_await products_.create(p);
    co_await tx.commit();
    co_return p;
  }
  asio::awaitable<std::shared_ptr<Product>> get(std::int64_t id) {
    auto p = co_await products_.get_by_id(id);
    if (!p) throw ProductNotFound("no product " + std::to_string(id));
    co_return p;
  }
  asio::awaitable<std::vector<std::shared_ptr<Product>>> list(std::optional<std::int64_t> max_price) {
    if (max_price) co_return co_await products_.priced_up_to(*max_price);
    co_return co_await products_.get_all(0, 50);
  }
  asio::awaitable<void> remove(std::int64_t id) {
    auto tx = co_await session_.begin();
    auto p = co_await products_.get_by_id(id);
    if (!p) throw ProductNotFound("no product " + std::to_string(id));
    co_await products_.delete_(p);
    co_await tx.commit();
  }

 private:
  corm::AsyncSession& session_;
  ProductRepository products_;
};

// ---- router: requests in, status codes out ----
struct Request {
  std::string method;
  std::string path;  // "/products", "/products/2", "/products?max_price=30"
  std::string name;
  std::int64_t price = 0;
};

std::string show(const Product& p) { return "{id:" + std::to_string(p.id) + " name:" + p.name + " price:" + std::to_string(p.price) + "}"; }

asio::awaitable<std::string> route(ProductService& service, const Request& r) {
  try {
    if (r.method == "POST" && r.path == "/products") {
      auto p = co_await service.create(r.name, r.price);
      co_return "201 " + show(*p);
    }
    if (r.method == "GET" && r.path.rfind("/products/", 0) == 0) {
      auto p = co_await service.get(std::stoll(r.path.substr(10)));
      co_return "200 " + show(*p);
    }
    if (r.method == "GET" && r.path.rfind("/products", 0) == 0) {
      std::optional<std::int64_t> max;
      if (auto q = r.path.find("?max_price="); q != std::string::npos) max = std::stoll(r.path.substr(q + 11));
      auto all = co_await service.list(max);
      std::string body = "200 [";
      for (auto& p : all) body += (body.back() == '[' ? "" : " ") + show(*p);
      co_return body + "]";
    }
    if (r.method == "DELETE" && r.path.rfind("/products/", 0) == 0) {
      co_await service.remove(std::stoll(r.path.substr(10)));
      co_return std::string("204");
    }
    co_return std::string("405");
  } catch (const DuplicateProduct& e) {
    co_return std::string("409 ") + e.what();
  } catch (const InvalidProduct& e) {
    co_return std::string("422 ") + e.what();
  } catch (const ProductNotFound& e) {
    co_return std::string("404 ") + e.what();
  }
}

asio::awaitable<void> serve(corm::AsyncEngine engine) {
  corm::ext::AsyncScopedSessions sessions(engine);
  const std::vector<Request> requests = {
      {"POST", "/products", "keyboard", 45}, {"POST", "/products", "mouse", 25},  {"POST", "/products", "monitor", 180},
      {"POST", "/products", "keyboard", 50}, {"POST", "/products", "mat", -1},    {"GET", "/products/1", "", 0},
      {"GET", "/products?max_price=50", "", 0}, {"DELETE", "/products/2", "", 0}, {"GET", "/products/2", "", 0},
      {"GET", "/products", "", 0},
  };
  for (const Request& r : requests) {
    // One scope per request: its session is made on first use and removed when the request ends.
    auto handle = [&](corm::ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<std::string> {
      ProductService service(scope.session());
      co_return co_await route(service, r);
    };
    std::string response = co_await sessions.scoped(handle);
    std::cout << r.method << " " << r.path << (r.name.empty() ? "" : " name=" + r.name + " price=" + std::to_string(r.price))
              << " -> " << response << "\n";
  }
  std::cout << "sessions left after " << requests.size() << " requests: " << sessions.size() << "\n";
}

int main(int argc, char** argv) try {
  example::Args args(argc, argv);
  example::Database db("shop", args.url);
  {
    corm::MetaData md;
    md.add<Product>();
    auto sync = corm::create_engine(db.url());
    auto c = sync.connect();
    md.create_all(c);
    c.commit();
  }
  asio::io_context io;
  corm::AsyncEngine engine = corm::create_async_engine(io.get_executor(), db.url());
  std::cout << "product service on " << corm::dialect_name(engine.dialect()) << "\n";
  std::exception_ptr error;
  asio::co_spawn(io, serve(engine), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "product_service failed: " << e.what() << "\n";
  return 1;
}

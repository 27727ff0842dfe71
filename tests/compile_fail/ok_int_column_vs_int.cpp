// Must compile: the well-typed twins of every compile-fail case here.
#include <string_view>
#include <vector>

#include "model.inc"

int main() {
  auto a = corm::col(&Pet::legs) > 100;
  auto b = corm::col(&Pet::legs) == corm::col(&Pet::legs);
  auto c = corm::select<Pet>().where(corm::col(&Pet::name) == "x").join(&Pet::owner);
  auto d = corm::update<Pet>().set(&Pet::legs, 4);
  // optional<int> against int, int64 and long; text against std::string and string_view.
  auto e = corm::col(&Pet::legs) == std::int64_t{4} && corm::col(&Pet::id) != 3L &&
           corm::col(&Pet::name) == std::string("x") && std::string_view("y") < corm::col(&Pet::name);
  auto f = corm::col(&Pet::name).in_({"a", "b"});
  auto g = corm::col(&Pet::id).in_(std::vector<int>{1, 2}) && corm::col(&Pet::legs).not_in({1, 2});
  auto h = corm::col(&Pet::legs).between(1, corm::col(&Pet::id));
  auto i = corm::col(&Pet::id) + 1 - corm::col(&Pet::legs) * 2 / 3.0 > corm::col(&Pet::owner_id);
  auto j = corm::update<Pet>().set(&Pet::name, "rex").set(&Pet::legs, corm::col(&Pet::legs) + 1);
  auto k = corm::col(&Pet::id).in_(corm::select<Owner>());
  (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h; (void)i; (void)j; (void)k;
  return 0;
}

// Must compile: the well-typed twins of every compile-fail case here.
#include "model.inc"

int main() {
  auto a = corm::col(&Pet::legs) > 100;
  auto b = corm::col(&Pet::legs) == corm::col(&Pet::legs);
  auto c = corm::select<Pet>().where(corm::col(&Pet::name) == "x").join(&Pet::owner);
  auto d = corm::update<Pet>().set(&Pet::legs, 4);
  (void)a; (void)b; (void)c; (void)d;
  return 0;
}

// Must NOT compile: SET of an integer column to text.
#include "model.inc"

int main() {
  auto u = corm::update<Pet>().set(&Pet::legs, "four");
  (void)u;
  return 0;
}

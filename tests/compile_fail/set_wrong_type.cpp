// Must NOT compile: SET of an integer column to text.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto u = corm::update<Pet>().set(&Pet::legs, "four");
  (void)u;
  return 0;
}

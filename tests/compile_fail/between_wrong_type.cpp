// Must NOT compile: BETWEEN bounds of another kind than the column's.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::legs).between("a", "z");
  (void)e;
  return 0;
}

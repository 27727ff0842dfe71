// Must NOT compile: IN with values of another kind than the column's.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::name).in_({1, 2, 3});
  (void)e;
  return 0;
}

// Must NOT compile: an integer column compared with text.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::legs) == "x";
  (void)e;
  return 0;
}

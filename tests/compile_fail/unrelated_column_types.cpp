// Must NOT compile: comparing a text column with an integer column.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::name) < corm::col(&Pet::id);
  (void)e;
  return 0;
}

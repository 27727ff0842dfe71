// Must NOT compile: a text column compared with an integer; the reason is corm's own message.
// expect: static assertion failed: corm: these operands hold different kinds of SQL value
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::name) == 5;
  (void)e;
  return 0;
}

// Must NOT compile: arithmetic on a text column.
// expect: static assertion failed: corm: \+ - \* / work on numbers
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::name) + 1;
  (void)e;
  return 0;
}

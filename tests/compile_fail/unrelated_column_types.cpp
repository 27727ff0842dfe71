// Must NOT compile: comparing a text column with an integer column.
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::name) < corm::col(&Pet::id);
  (void)e;
  return 0;
}

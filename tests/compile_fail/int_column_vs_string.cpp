// Must NOT compile: an integer column compared with text.
#include "model.inc"

int main() {
  auto e = corm::col(&Pet::legs) == "x";
  (void)e;
  return 0;
}

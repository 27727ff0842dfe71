// Must NOT compile: a relationship holder is not a column.
#include "model.inc"

int main() {
  auto e = corm::col(&Owner::pets);
  (void)e;
  return 0;
}

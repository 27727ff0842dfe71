// Must NOT compile: WHERE needs a boolean expression, not an integer column.
#include "model.inc"

int main() {
  auto s = corm::select<Pet>().where(corm::col(&Pet::legs));
  (void)s;
  return 0;
}

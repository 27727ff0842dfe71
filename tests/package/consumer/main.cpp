#include <corm/corm.hpp>

#include <iostream>

int main() {
  auto engine = corm::create_engine("sqlite://");
  auto conn = engine.connect();
  const auto n = conn.execute(corm::text("SELECT :a + :b").bind("a", 40).bind("b", 2)).scalar_one<int>();
  std::cout << n << "\n";
  return n == 42 ? 0 : 1;
}

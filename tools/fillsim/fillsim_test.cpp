#include <catch2/catch.hpp>

#include "tools/fillsim/simulator.h"

TEST_CASE("fillsim builds a fill", "[fillsim]") {
  fillsim::Config c;
  c.accounts = 100;
  c.rate = 100;
  c.duration_s = 10;
  fillsim::Simulator sim(c);
  fillsim::SimFill f;
  REQUIRE(sim.next(&f));
}

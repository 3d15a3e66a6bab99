#include "core/black76.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

namespace segmentd::black76 {
namespace {

double price(bool is_call, double f, double k, double t, double s) { return greeks(is_call, f, k, t, s).price; }

struct Case {
  double f, k, t, s;
};

const std::vector<Case> kCases = {
    {100, 100, 1.0, 0.2},      {110, 100, 1.0, 0.2},    {90, 100, 0.25, 0.5}, {60000, 50000, 0.1, 0.6},
    {60000, 80000, 0.02, 0.9}, {3000, 2500, 2.0, 0.75}, {2.5, 2.2, 0.5, 1.1}, {100, 130, 0.05, 0.35},
};

TEST_CASE("black76 put-call parity: C - P = F - K", "[black76]") {
  for (const Case& c : kCases) {
    INFO("F=" << c.f << " K=" << c.k << " T=" << c.t << " sigma=" << c.s);
    const double call = price(true, c.f, c.k, c.t, c.s);
    const double put = price(false, c.f, c.k, c.t, c.s);
    CHECK(call - put == Approx(c.f - c.k).margin(1e-9 * c.f));
    // Call and put share gamma and vega; their deltas differ by one.
    const Greeks gc = greeks(true, c.f, c.k, c.t, c.s);
    const Greeks gp = greeks(false, c.f, c.k, c.t, c.s);
    CHECK(gc.delta - gp.delta == Approx(1.0).epsilon(1e-12));
    CHECK(gc.gamma == Approx(gp.gamma).epsilon(1e-12));
    CHECK(gc.vega == Approx(gp.vega).epsilon(1e-12));
  }
}

TEST_CASE("black76 greeks match central finite differences of the price", "[black76]") {
  for (const Case& c : kCases) {
    for (bool is_call : {true, false}) {
      INFO((is_call ? "call" : "put") << " F=" << c.f << " K=" << c.k << " T=" << c.t << " sigma=" << c.s);
      const Greeks g = greeks(is_call, c.f, c.k, c.t, c.s);
      // Steps scale with F*sigma*sqrt(T), the width over which the price curves.
      const double width = c.f * c.s * std::sqrt(c.t);
      const double h = width * 1e-4;
      const double up = price(is_call, c.f + h, c.k, c.t, c.s);
      const double mid = price(is_call, c.f, c.k, c.t, c.s);
      const double down = price(is_call, c.f - h, c.k, c.t, c.s);
      const double fd_delta = (up - down) / (2 * h);
      const double hg = width * 2e-3;  // wider for the second difference: rounding grows as eps/h^2
      const double fd_gamma =
          (price(is_call, c.f + hg, c.k, c.t, c.s) - 2 * mid + price(is_call, c.f - hg, c.k, c.t, c.s)) / (hg * hg);
      const double hv = 1e-5;
      const double fd_vega =
          (price(is_call, c.f, c.k, c.t, c.s + hv) - price(is_call, c.f, c.k, c.t, c.s - hv)) / (2 * hv);
      CHECK(g.price == Approx(mid));
      CHECK(g.delta == Approx(fd_delta).epsilon(1e-5));
      CHECK(g.gamma == Approx(fd_gamma).epsilon(1e-5));
      CHECK(g.vega == Approx(fd_vega).epsilon(1e-5));
    }
  }
}

TEST_CASE("black76 reproduces published values", "[black76]") {
  SECTION("Hull, Options, Futures and Other Derivatives, Black's model example") {
    // European put on a futures: F0 = 20, K = 20, r = 9%, T = 4/12, sigma = 25%; Hull gives
    // d1 = 0.07216, d2 = -0.07216 and p = e^(-0.03) * 20 * [N(0.07216) - N(-0.07216)] = 1.12.
    // Our rate is zero, so we discount our (undiscounted) value ourselves before comparing.
    const Greeks g = greeks(false, 20, 20, 4.0 / 12.0, 0.25);
    CHECK(g.price * std::exp(-0.09 * 4.0 / 12.0) == Approx(1.12).margin(0.005));
    // Put delta is N(d1) - 1; N(0.07216) = 0.52876 interpolating the table's N(0.07), N(0.08).
    CHECK(g.delta + 1 == Approx(0.52876).margin(5e-5));
  }
  SECTION("Haug, The Complete Guide to Option Pricing Formulas, Black-76 example") {
    // Futures option, F = 19, K = 19, T = 0.75, r = 10%, sigma = 28%: c = p = 1.7011
    // (d1 = 0.1212, d2 = -0.1212). Again discounted by e^(-rT) here.
    const double disc = std::exp(-0.10 * 0.75);
    CHECK(price(true, 19, 19, 0.75, 0.28) * disc == Approx(1.7011).margin(5e-5));
    CHECK(price(false, 19, 19, 0.75, 0.28) * disc == Approx(1.7011).margin(5e-5));
  }
  SECTION("by hand from a normal table: F = K = 100, T = 1, sigma = 20%") {
    // d1 = sigma*sqrt(T)/2 = 0.1, d2 = -0.1; N(0.10) = 0.5398, N(-0.10) = 0.4602;
    // c = 100 * (0.5398 - 0.4602) = 7.96 (4-digit table; exact 7.9656).
    CHECK(price(true, 100, 100, 1, 0.2) == Approx(7.96).margin(0.01));
    CHECK(price(true, 100, 100, 1, 0.2) == Approx(7.965567455).epsilon(1e-9));
    CHECK(greeks(true, 100, 100, 1, 0.2).delta == Approx(0.5398).margin(5e-5));
    // vega = F * phi(0.1) * sqrt(T) = 100 * 0.39695 = 39.695; gamma = phi(0.1)/(F*0.2) = 0.019848.
    CHECK(greeks(true, 100, 100, 1, 0.2).vega == Approx(39.695).margin(5e-4));
    CHECK(greeks(true, 100, 100, 1, 0.2).gamma == Approx(0.019848).margin(5e-7));
  }
  SECTION("by hand from a normal table: F = 110, K = 100, T = 1, sigma = 20%") {
    // d1 = (ln 1.1 + 0.02)/0.2 = 0.5766, d2 = 0.3766; N(0.5766) = 0.7179, N(0.3766) = 0.6467;
    // c = 110*0.7179 - 100*0.6467 = 14.30, p = c - (F - K) = 4.30.
    CHECK(price(true, 110, 100, 1, 0.2) == Approx(14.30).margin(0.01));
    CHECK(price(false, 110, 100, 1, 0.2) == Approx(4.30).margin(0.01));
  }
}

TEST_CASE("black76 degenerate inputs give intrinsic value and no NaN", "[black76]") {
  struct Degenerate {
    double f, k, t, s;
  };
  const std::vector<Degenerate> inputs = {
      {110, 100, 0, 0.5},  {90, 100, 0, 0.5},   {100, 100, 0, 0.5}, {110, 100, 1, 0}, {90, 100, 1, 0},
      {110, 100, -1, 0.5}, {110, 100, 1, -0.2}, {0, 100, 1, 0.5},   {110, 0, 1, 0.5}, {-5, 100, 1, 0.5},
  };
  for (const Degenerate& d : inputs) {
    INFO("F=" << d.f << " K=" << d.k << " T=" << d.t << " sigma=" << d.s);
    const Greeks c = greeks(true, d.f, d.k, d.t, d.s);
    const Greeks p = greeks(false, d.f, d.k, d.t, d.s);
    CHECK(c.price == std::max(d.f - d.k, 0.0));
    CHECK(p.price == std::max(d.k - d.f, 0.0));
    CHECK(c.delta == (d.f > d.k ? 1.0 : d.f < d.k ? 0.0 : 0.5));
    CHECK(p.delta == c.delta - 1.0);
    CHECK(c.gamma == 0.0);
    CHECK(c.vega == 0.0);
    CHECK(p.gamma == 0.0);
    CHECK(p.vega == 0.0);
  }
}

TEST_CASE("black76 extreme but finite inputs stay finite", "[black76]") {
  const double tiny = std::numeric_limits<double>::denorm_min();
  const double huge = std::numeric_limits<double>::max();
  const std::vector<Case> extremes = {
      {100, 100, 1e-300, 1e-300}, {100, 1e-300, 1, 0.5},  {1e300, 1, 1, 0.5},   {1, 1e300, 1, 0.5},
      {100, 100, 1e6, 50},        {100, 100, huge, huge}, {tiny, tiny, 1, 0.5}, {100, 120, 1e-12, 0.01},
      {huge, huge, 1, 0.5},       {100, 100, 1, 1e-200},
  };
  for (const Case& c : extremes) {
    for (bool is_call : {true, false}) {
      INFO((is_call ? "call" : "put") << " F=" << c.f << " K=" << c.k << " T=" << c.t << " sigma=" << c.s);
      const Greeks g = greeks(is_call, c.f, c.k, c.t, c.s);
      CHECK_FALSE(std::isnan(g.price));
      CHECK_FALSE(std::isnan(g.delta));
      CHECK_FALSE(std::isnan(g.gamma));
      CHECK_FALSE(std::isnan(g.vega));
      CHECK(g.price >= 0.0);
      CHECK(g.delta >= (is_call ? 0.0 : -1.0));
      CHECK(g.delta <= (is_call ? 1.0 : 0.0));
    }
  }
  // Non-finite input is garbage: nothing rather than NaN.
  const Greeks nan_in = greeks(true, std::nan(""), 100, 1, 0.5);
  CHECK(nan_in.price == 0.0);
  CHECK(nan_in.delta == 0.0);
}

// Positions carry delta_vega(): it must be greeks()'s delta and vega exactly, degenerate and
// garbage inputs included, so that the cheaper path changes no feature.
TEST_CASE("black76 delta_vega is greeks()'s delta and vega bit for bit", "[black76]") {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Case> inputs = kCases;
  inputs.insert(inputs.end(), {{110, 100, 0, 0.5},
                               {100, 100, 0, 0.5},
                               {110, 100, 1, 0},
                               {0, 100, 1, 0.5},
                               {-5, 100, 1, 0.5},
                               {100, 100, 1e-300, 1e-300},
                               {1e300, 1, 1, 0.5},
                               {nan, 100, 1, 0.5},
                               {100, inf, 1, 0.5}});
  // A grid over moneyness, tenor and vol, both tails included.
  for (double k : {20000.0, 45000.0, 49999.0, 50000.0, 50001.0, 60000.0, 200000.0})
    for (double t : {1e-6, 1.0 / 365.25, 0.1, 1.0, 3.0})
      for (double s : {0.05, 0.5, 1.5, 4.0}) inputs.push_back({50000.0, k, t, s});
  for (const Case& c : inputs) {
    for (bool is_call : {true, false}) {
      INFO((is_call ? "call" : "put") << " F=" << c.f << " K=" << c.k << " T=" << c.t << " sigma=" << c.s);
      const Greeks g = greeks(is_call, c.f, c.k, c.t, c.s);
      const DeltaVega dv = delta_vega(is_call, c.f, c.k, c.t, c.s);
      CHECK(dv.delta == g.delta);
      CHECK(dv.vega == g.vega);
    }
  }
}

}  // namespace
}  // namespace segmentd::black76

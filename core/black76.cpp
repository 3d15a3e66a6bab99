#include "core/black76.h"

#include <cmath>

// Black-76 with a discount factor of 1:
//   d1 = ln(F/K)/(σ√T) + σ√T/2,  d2 = d1 − σ√T
//   call = F·N(d1) − K·N(d2),     put = K·N(−d2) − F·N(−d1)
//   delta = N(d1) (call), N(d1) − 1 (put);  gamma = φ(d1)/(F·σ√T);  vega = F·φ(d1)·√T
// The put is priced from its own formula rather than by parity so that deep in-the-money calls
// and puts keep their precision (erfc is accurate in both tails).

namespace segmentd::black76 {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

double norm_cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }
double norm_pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }

//! Value at expiry (or with no volatility left): the payoff and a step delta, 1/2 at the money.
Greeks intrinsic(bool is_call, double forward, double strike) {
  Greeks g;
  const double step = forward > strike ? 1.0 : forward < strike ? 0.0 : 0.5;
  if (is_call) {
    g.price = forward > strike ? forward - strike : 0.0;
    g.delta = step;
  } else {
    g.price = strike > forward ? strike - forward : 0.0;
    g.delta = step - 1.0;
  }
  return g;
}

}  // namespace

Greeks greeks(bool is_call, double forward, double strike, double years, double sigma) {
  if (!std::isfinite(forward) || !std::isfinite(strike) || !std::isfinite(years) || !std::isfinite(sigma)) {
    return Greeks{};  // garbage in: contribute nothing rather than NaN to sums downstream
  }
  if (years <= 0.0 || sigma <= 0.0 || forward <= 0.0 || strike <= 0.0) return intrinsic(is_call, forward, strike);
  const double sqrt_t = std::sqrt(years);
  const double sd = sigma * sqrt_t;  // total standard deviation of ln F at expiry
  if (!(sd > 0.0) || !std::isfinite(sd)) return intrinsic(is_call, forward, strike);

  // log(F) − log(K) rather than log(F/K): the ratio can overflow or underflow.
  const double d1 = (std::log(forward) - std::log(strike)) / sd + 0.5 * sd;
  const double d2 = d1 - sd;
  const double pdf = norm_pdf(d1);

  Greeks g;
  if (is_call) {
    g.price = forward * norm_cdf(d1) - strike * norm_cdf(d2);
    g.delta = norm_cdf(d1);
  } else {
    g.price = strike * norm_cdf(-d2) - forward * norm_cdf(-d1);
    g.delta = -norm_cdf(-d1);
  }
  const double f_sd = forward * sd;
  g.gamma = f_sd > 0.0 ? pdf / f_sd : 0.0;
  g.vega = forward * pdf * sqrt_t;
  if (!(g.price > 0.0)) g.price = 0.0;  // rounding can leave −1e-17 far out of the money
  return g;
}

}  // namespace segmentd::black76

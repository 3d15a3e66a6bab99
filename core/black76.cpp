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

//! d1, the total standard deviation and √T of non-degenerate inputs; false for the inputs that
//! take the intrinsic value (T <= 0, sigma <= 0, F or K <= 0, or a deviation that is not > 0).
struct Terms {
  double d1, sd, sqrt_t;
};
bool terms(double forward, double strike, double years, double sigma, Terms& t) {
  if (years <= 0.0 || sigma <= 0.0 || forward <= 0.0 || strike <= 0.0) return false;
  t.sqrt_t = std::sqrt(years);
  t.sd = sigma * t.sqrt_t;  // total standard deviation of ln F at expiry
  if (!(t.sd > 0.0) || !std::isfinite(t.sd)) return false;
  // log(F) − log(K) rather than log(F/K): the ratio can overflow or underflow.
  t.d1 = (std::log(forward) - std::log(strike)) / t.sd + 0.5 * t.sd;
  return true;
}

bool finite_inputs(double forward, double strike, double years, double sigma) {
  return std::isfinite(forward) && std::isfinite(strike) && std::isfinite(years) && std::isfinite(sigma);
}

double delta_of(bool is_call, double d1) { return is_call ? norm_cdf(d1) : -norm_cdf(-d1); }

}  // namespace

Greeks greeks(bool is_call, double forward, double strike, double years, double sigma) {
  if (!finite_inputs(forward, strike, years, sigma)) {
    return Greeks{};  // garbage in: contribute nothing rather than NaN to sums downstream
  }
  Terms t;
  if (!terms(forward, strike, years, sigma, t)) return intrinsic(is_call, forward, strike);
  const double d2 = t.d1 - t.sd;
  const double pdf = norm_pdf(t.d1);

  Greeks g;
  g.price =
      is_call ? forward * norm_cdf(t.d1) - strike * norm_cdf(d2) : strike * norm_cdf(-d2) - forward * norm_cdf(-t.d1);
  g.delta = delta_of(is_call, t.d1);
  const double f_sd = forward * t.sd;
  g.gamma = f_sd > 0.0 ? pdf / f_sd : 0.0;
  g.vega = forward * pdf * t.sqrt_t;
  if (!(g.price > 0.0)) g.price = 0.0;  // rounding can leave −1e-17 far out of the money
  return g;
}

DeltaVega delta_vega(bool is_call, double forward, double strike, double years, double sigma) {
  if (!finite_inputs(forward, strike, years, sigma)) return DeltaVega{};
  Terms t;
  if (!terms(forward, strike, years, sigma, t)) return DeltaVega{intrinsic(is_call, forward, strike).delta, 0.0};
  return DeltaVega{delta_of(is_call, t.d1), forward * norm_pdf(t.d1) * t.sqrt_t};
}

}  // namespace segmentd::black76

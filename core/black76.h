#pragma once
// Black-76 option greeks on a forward (or underlying) price F, strike K, time to expiry T in
// years, volatility sigma as a fraction. Rates are zero (crypto options are quoted on the forward
// and margined in the coin), so the discount factor is 1.

namespace segmentd::black76 {

struct Greeks {
  double price = 0.0;  //!< in the units of F
  double delta = 0.0;  //!< dPrice/dF
  double gamma = 0.0;  //!< d2Price/dF2
  double vega = 0.0;   //!< dPrice/dsigma, per 1.00 of vol (divide by 100 for per vol point)
};

//! Greeks of a call (is_call) or put. Degenerate inputs (T <= 0, sigma <= 0, F or K <= 0) give
//! the intrinsic value and a step delta, zero gamma and vega; never NaN for finite inputs.
Greeks greeks(bool is_call, double forward, double strike, double years, double sigma);

//! The delta and vega of greeks(), bit for bit, without the price and gamma (one erfc instead of
//! three): what a position carries, computed on every option fill.
struct DeltaVega {
  double delta = 0.0;
  double vega = 0.0;
};
DeltaVega delta_vega(bool is_call, double forward, double strike, double years, double sigma);

}  // namespace segmentd::black76

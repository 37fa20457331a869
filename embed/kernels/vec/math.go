package vec

import "math"

// Scalar float32 exp, erf and GELU. simplego computes exp and erf in
// float64 through math.Exp and math.Erf; these are the float32 formulas
// every implementation of this package uses, vector lanes and scalar
// tails alike, so an element's value does not depend on where it sits.
// The assembly evaluates the same polynomials with fused multiply-adds,
// so results may differ from these in the last bit.

// Exp: Cephes expf. x = n·ln2 + r, |r| ≤ ln2/2; e^r by a degree-7
// polynomial; ×2^n. Max relative error under 1 ulp on [-87, 88]
// (TestExpAccuracy). Inputs are clamped to float32's range, so e^x of a
// masked attention score (≈ -3.4e38) is 1e-38, not NaN.
const (
	ExpLo = -87.33654
	ExpHi = 88.72283
	Log2e = 1.44269504088896341
	Ln2Hi = 0.693359375
	Ln2Lo = -2.12194440e-4
	ExpP0 = 1.9875691500e-4
	ExpP1 = 1.3981999507e-3
	ExpP2 = 8.3334519073e-3
	ExpP3 = 4.1665795894e-2
	ExpP4 = 1.6666665459e-1
	ExpP5 = 5.0000001201e-1
	// ErfClamp: erf(±4) is ±1 in float32.
	ErfClamp = 4.0
	// Rsqrt2 is 1/√2, GELU's argument scale.
	Rsqrt2 = 1 / math.Sqrt2
)

// ErfAlpha and ErfBeta: the rational approximation XLA and Eigen use for
// float32 erf, x·P(x²)/Q(x²) on x clamped to [-4, 4], highest power
// first. Max absolute error 4.2e-7 (TestErfAccuracy).
var (
	ErfAlpha = [...]float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
		-5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	ErfBeta = [...]float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
		-7.37332916720468e-03, -1.42647390514189e-02}
)

// Exp returns e^x in float32.
func Exp(x float32) float32 {
	x = min(max(x, ExpLo), ExpHi)
	n := float32(math.RoundToEven(float64(x * Log2e)))
	r := x - n*Ln2Hi
	r = r - n*Ln2Lo
	y := float32(ExpP0)*r + ExpP1
	y = y*r + ExpP2
	y = y*r + ExpP3
	y = y*r + ExpP4
	y = y*r + ExpP5
	y = y*r*r + r + 1
	return float32(math.Ldexp(float64(y), int(n)))
}

// Erf returns the float32 error function (the XLA/Eigen approximation).
func Erf(x float32) float32 {
	x = min(max(x, -ErfClamp), ErfClamp)
	x2 := x * x
	p := ErfAlpha[0]*x2 + ErfAlpha[1]
	for _, a := range ErfAlpha[2:] {
		p = p*x2 + a
	}
	q := ErfBeta[0]*x2 + ErfBeta[1]
	for _, b := range ErfBeta[2:] {
		q = q*x2 + b
	}
	return x * p / q
}

// Gelu is the exact (erf) GELU, x·½·(1 + erf(x/√2)).
func Gelu(x float32) float32 {
	return x * 0.5 * (1 + Erf(x*Rsqrt2))
}

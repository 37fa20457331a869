//go:build amd64 && goexperiment.simd

package fastops

import (
	"math"
	"simd/archsimd"
)

// Vectorised float32 exp and erf. simplego computes both in float64
// through math.Exp and math.Erf, one element at a time; these take 16 at
// once. Softmax handles a row's tail with masked loads; GELU's scalar twin
// (gelu32, for rows not a multiple of 16) uses the same erf formula, so a
// row's elements do not differ by where they sit.

// exp: Cephes expf. x = n·ln2 + r, |r| ≤ ln2/2; e^r by a degree-7
// polynomial; 2^n applied with VSCALEFPS. Max relative error 0.7 ulp on
// [-87, 88] (TestExpAccuracy). Inputs are clamped to float32's range, so
// e^x of a masked score (≈ -3.4e38) is 1e-38, not NaN.
const (
	expLo    = -87.33654
	expHi    = 88.72283
	log2e    = 1.44269504088896341
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	erfClamp = 4.0
)

// erf: the rational approximation XLA and Eigen use for float32,
// x·P(x²)/Q(x²) on x clamped to [-4, 4] (erf(±4) is ±1 in float32).
// Max absolute error 4.2e-7 (TestErfAccuracy).
var (
	erfAlpha = [...]float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
		-5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfBeta = [...]float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
		-7.37332916720468e-03, -1.42647390514189e-02}
)

var (
	vExpLo  = archsimd.BroadcastFloat32x16(expLo)
	vExpHi  = archsimd.BroadcastFloat32x16(expHi)
	vLog2e  = archsimd.BroadcastFloat32x16(log2e)
	vNLn2Hi = archsimd.BroadcastFloat32x16(-ln2Hi)
	vNLn2Lo = archsimd.BroadcastFloat32x16(-ln2Lo)
	vExpP   = [...]archsimd.Float32x16{
		archsimd.BroadcastFloat32x16(expP0), archsimd.BroadcastFloat32x16(expP1),
		archsimd.BroadcastFloat32x16(expP2), archsimd.BroadcastFloat32x16(expP3),
		archsimd.BroadcastFloat32x16(expP4), archsimd.BroadcastFloat32x16(expP5),
	}
	vOne    = archsimd.BroadcastFloat32x16(1)
	vHalf   = archsimd.BroadcastFloat32x16(0.5)
	vErfHi  = archsimd.BroadcastFloat32x16(erfClamp)
	vErfLo  = archsimd.BroadcastFloat32x16(-erfClamp)
	vRsqrt2 = archsimd.BroadcastFloat32x16(1 / math.Sqrt2)
	vAlpha  [len(erfAlpha)]archsimd.Float32x16
	vBeta   [len(erfBeta)]archsimd.Float32x16
	vZero   archsimd.Float32x16
	vNegInf = archsimd.BroadcastFloat32x16(float32(math.Inf(-1)))
)

func init() {
	for i, a := range erfAlpha {
		vAlpha[i] = archsimd.BroadcastFloat32x16(a)
	}
	for i, b := range erfBeta {
		vBeta[i] = archsimd.BroadcastFloat32x16(b)
	}
}

func exp16(x archsimd.Float32x16) archsimd.Float32x16 {
	x = x.Max(vExpLo).Min(vExpHi)
	n := x.Mul(vLog2e).RoundToEvenScaled(0)
	r := n.MulAdd(vNLn2Hi, x)
	r = n.MulAdd(vNLn2Lo, r)
	y := vExpP[0].MulAdd(r, vExpP[1])
	y = y.MulAdd(r, vExpP[2])
	y = y.MulAdd(r, vExpP[3])
	y = y.MulAdd(r, vExpP[4])
	y = y.MulAdd(r, vExpP[5])
	y = y.Mul(r).MulAdd(r, r).Add(vOne)
	return y.Scale(n)
}

func erf16(x archsimd.Float32x16) archsimd.Float32x16 {
	x = x.Max(vErfLo).Min(vErfHi)
	x2 := x.Mul(x)
	p := vAlpha[0].MulAdd(x2, vAlpha[1])
	for _, a := range vAlpha[2:] {
		p = p.MulAdd(x2, a)
	}
	q := vBeta[0].MulAdd(x2, vBeta[1])
	for _, b := range vBeta[2:] {
		q = q.MulAdd(x2, b)
	}
	return x.Mul(p).Div(q)
}

func erf32(x float32) float32 {
	x = min(max(x, -erfClamp), erfClamp)
	x2 := x * x
	p := erfAlpha[0]*x2 + erfAlpha[1]
	for _, a := range erfAlpha[2:] {
		p = p*x2 + a
	}
	q := erfBeta[0]*x2 + erfBeta[1]
	for _, b := range erfBeta[2:] {
		q = q*x2 + b
	}
	return x * p / q
}

// gelu16 is the exact (erf) GELU, x·½·(1 + erf(x/√2)).
func gelu16(x archsimd.Float32x16) archsimd.Float32x16 {
	return x.Mul(vHalf).Mul(vOne.Add(erf16(x.Mul(vRsqrt2))))
}

func gelu32(x float32) float32 {
	return x * 0.5 * (1 + erf32(x*(1/math.Sqrt2)))
}

// hsum and hmax reduce a vector to one value.
func hsum(v archsimd.Float32x16) float32 {
	var a [16]float32
	v.Store(&a)
	var s float32
	for _, x := range a {
		s += x
	}
	return s
}

func hmax(v archsimd.Float32x16) float32 {
	var a [16]float32
	v.Store(&a)
	m := a[0]
	for _, x := range a[1:] {
		m = max(m, x)
	}
	return m
}

func vec(s []float32) *[16]float32 { return (*[16]float32)(s) }

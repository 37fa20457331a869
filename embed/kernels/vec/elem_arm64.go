package vec

// The NEON element kernels (elem_arm64.s). They take whole 4-lane vectors
// only (n > 0, a multiple of 4); the wrappers in vec.go do the tails.

// Constant tables the kernels load with LD4R (four scalars per
// instruction, each replicated across a vector), so the constants have
// one source: math.go. The order is the kernels' register order.
var (
	// expTab → V16…V27 of expSubNEON. The last entry, 1.0, is also
	// 127<<23 as an integer: the exponent bias for building 2^n.
	expTab = [12]float32{ExpLo, ExpHi, Log2e, Ln2Hi, Ln2Lo,
		ExpP0, ExpP1, ExpP2, ExpP3, ExpP4, ExpP5, 1}
	// geluTab → V16…V31 of geluNEON and biasGeluNEON.
	geluTab = [16]float32{Rsqrt2, -ErfClamp, ErfClamp,
		ErfAlpha[0], ErfAlpha[1], ErfAlpha[2], ErfAlpha[3], ErfAlpha[4], ErfAlpha[5], ErfAlpha[6],
		ErfBeta[0], ErfBeta[1], ErfBeta[2], ErfBeta[3], ErfBeta[4], 0.5}
)

//go:noescape
func maxfNEON(x *float32, n int) float32

//go:noescape
func sumNEON(x *float32, n int) float32

//go:noescape
func scaleNEON(y *float32, n int, s float32)

//go:noescape
func expSubNEON(x, y *float32, n int, m float32) float32

//go:noescape
func geluNEON(x, y *float32, n int)

//go:noescape
func biasGeluNEON(x, b, y *float32, n int)

//go:noescape
func addVVNEON(a, c, y *float32, n int)

//go:noescape
func subVVNEON(a, c, y *float32, n int)

//go:noescape
func mulVVNEON(a, c, y *float32, n int)

//go:noescape
func divVVNEON(a, c, y *float32, n int)

//go:noescape
func addVSNEON(a *float32, s float32, y *float32, n int)

//go:noescape
func subVSNEON(a *float32, s float32, y *float32, n int)

//go:noescape
func mulVSNEON(a *float32, s float32, y *float32, n int)

//go:noescape
func divVSNEON(a *float32, s float32, y *float32, n int)

//go:noescape
func addSVNEON(s float32, c, y *float32, n int)

//go:noescape
func subSVNEON(s float32, c, y *float32, n int)

//go:noescape
func mulSVNEON(s float32, c, y *float32, n int)

//go:noescape
func divSVNEON(s float32, c, y *float32, n int)

func init() {
	neon.vl = 4
	neon.maxf = maxfNEON
	neon.expSub = expSubNEON
	neon.scale = scaleNEON
	neon.sum = sumNEON
	neon.gelu = geluNEON
	neon.biasGelu = biasGeluNEON
	neon.binVV = [numOps]func(a, c, y *float32, n int){Add: addVVNEON, Sub: subVVNEON, Mul: mulVVNEON, Div: divVVNEON}
	neon.binVS = [numOps]func(a *float32, s float32, y *float32, n int){Add: addVSNEON, Sub: subVSNEON, Mul: mulVSNEON, Div: divVSNEON}
	neon.binSV = [numOps]func(s float32, c, y *float32, n int){Add: addSVNEON, Sub: subSVNEON, Mul: mulSVNEON, Div: divSVNEON}
}

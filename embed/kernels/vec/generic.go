package vec

import (
	"math"
	"unsafe"
)

// The plain-Go implementation: it runs on any CPU, and it is the
// reference the assembly is tested against.
var genericImpl = &impl{
	name:      "generic",
	supported: func() bool { return true },
	stripW:    16,
	gemm:      gemmGeneric,
	dotsI8:    dotsI8Generic,
	vl:        1,
	maxf: func(x *float32, n int) float32 {
		m := float32(math.Inf(-1))
		for _, v := range unsafe.Slice(x, n) {
			m = max(m, v)
		}
		return m
	},
	expSub: func(x, y *float32, n int, m float32) float32 {
		xs, ys := unsafe.Slice(x, n), unsafe.Slice(y, n)
		var s float32
		for i, v := range xs {
			e := Exp(v - m)
			ys[i] = e
			s += e
		}
		return s
	},
	scale: func(y *float32, n int, s float32) {
		for i, ys := 0, unsafe.Slice(y, n); i < n; i++ {
			ys[i] *= s
		}
	},
	sum: func(x *float32, n int) float32 {
		var s float32
		for _, v := range unsafe.Slice(x, n) {
			s += v
		}
		return s
	},
	gelu: func(x, y *float32, n int) {
		xs, ys := unsafe.Slice(x, n), unsafe.Slice(y, n)
		for i, v := range xs {
			ys[i] = Gelu(v)
		}
	},
	biasGelu: func(x, b, y *float32, n int) {
		xs, bs, ys := unsafe.Slice(x, n), unsafe.Slice(b, n), unsafe.Slice(y, n)
		for i, v := range xs {
			ys[i] = Gelu(v + bs[i])
		}
	},
	binVV: [numOps]func(a, c, y *float32, n int){
		Add: func(a, c, y *float32, n int) { vv(a, c, y, n, func(x, z float32) float32 { return x + z }) },
		Sub: func(a, c, y *float32, n int) { vv(a, c, y, n, func(x, z float32) float32 { return x - z }) },
		Mul: func(a, c, y *float32, n int) { vv(a, c, y, n, func(x, z float32) float32 { return x * z }) },
		Div: func(a, c, y *float32, n int) { vv(a, c, y, n, func(x, z float32) float32 { return x / z }) },
	},
	binVS: [numOps]func(a *float32, s float32, y *float32, n int){
		Add: func(a *float32, s float32, y *float32, n int) { vs(a, s, y, n, Add) },
		Sub: func(a *float32, s float32, y *float32, n int) { vs(a, s, y, n, Sub) },
		Mul: func(a *float32, s float32, y *float32, n int) { vs(a, s, y, n, Mul) },
		Div: func(a *float32, s float32, y *float32, n int) { vs(a, s, y, n, Div) },
	},
	binSV: [numOps]func(s float32, c, y *float32, n int){
		Add: func(s float32, c, y *float32, n int) { sv(s, c, y, n, Add) },
		Sub: func(s float32, c, y *float32, n int) { sv(s, c, y, n, Sub) },
		Mul: func(s float32, c, y *float32, n int) { sv(s, c, y, n, Mul) },
		Div: func(s float32, c, y *float32, n int) { sv(s, c, y, n, Div) },
	},
}

func vv(a, c, y *float32, n int, f func(x, z float32) float32) {
	as, cs, ys := unsafe.Slice(a, n), unsafe.Slice(c, n), unsafe.Slice(y, n)
	for i := range ys {
		ys[i] = f(as[i], cs[i])
	}
}

func vs(a *float32, s float32, y *float32, n int, op Op) {
	as, ys := unsafe.Slice(a, n), unsafe.Slice(y, n)
	for i := range ys {
		ys[i] = apply(op, as[i], s)
	}
}

func sv(s float32, c, y *float32, n int, op Op) {
	cs, ys := unsafe.Slice(c, n), unsafe.Slice(y, n)
	for i := range ys {
		ys[i] = apply(op, s, cs[i])
	}
}

// gemmGeneric: 4 rows × 4 columns of accumulators in registers, the k
// loop innermost.
func gemmGeneric(l, r, o *float32, m, k, w, ldl, ldr, ldo, _, _, _ int) {
	L := unsafe.Slice(l, (m-1)*ldl+k)
	R := unsafe.Slice(r, (k-1)*ldr+w)
	O := unsafe.Slice(o, (m-1)*ldo+w)
	i := 0
	for ; i+4 <= m; i += 4 {
		l0, l1, l2, l3 := L[i*ldl:i*ldl+k], L[(i+1)*ldl:(i+1)*ldl+k], L[(i+2)*ldl:(i+2)*ldl+k], L[(i+3)*ldl:(i+3)*ldl+k]
		j := 0
		for ; j+4 <= w; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
			ro := j
			for p := range k {
				rr := R[ro : ro+4 : ro+4]
				r0, r1, r2, r3 := rr[0], rr[1], rr[2], rr[3]
				a := l0[p]
				c00 += a * r0
				c01 += a * r1
				c02 += a * r2
				c03 += a * r3
				a = l1[p]
				c10 += a * r0
				c11 += a * r1
				c12 += a * r2
				c13 += a * r3
				a = l2[p]
				c20 += a * r0
				c21 += a * r1
				c22 += a * r2
				c23 += a * r3
				a = l3[p]
				c30 += a * r0
				c31 += a * r1
				c32 += a * r2
				c33 += a * r3
				ro += ldr
			}
			copy(O[i*ldo+j:], []float32{c00, c01, c02, c03})
			copy(O[(i+1)*ldo+j:], []float32{c10, c11, c12, c13})
			copy(O[(i+2)*ldo+j:], []float32{c20, c21, c22, c23})
			copy(O[(i+3)*ldo+j:], []float32{c30, c31, c32, c33})
		}
		for ; j < w; j++ {
			var c0, c1, c2, c3 float32
			ro := j
			for p := range k {
				rv := R[ro]
				c0 += l0[p] * rv
				c1 += l1[p] * rv
				c2 += l2[p] * rv
				c3 += l3[p] * rv
				ro += ldr
			}
			O[i*ldo+j], O[(i+1)*ldo+j], O[(i+2)*ldo+j], O[(i+3)*ldo+j] = c0, c1, c2, c3
		}
	}
	for ; i < m; i++ {
		li := L[i*ldl : i*ldl+k]
		oi := O[i*ldo : i*ldo+w]
		clear(oi)
		for p, a := range li {
			rr := R[p*ldr : p*ldr+w]
			for j, rv := range rr {
				oi[j] += a * rv
			}
		}
	}
}

//go:build amd64

package vec

// The element kernels of the avx512 and avx2 implementations, generated
// by embed/kernels/asm/elem into elem_amd64.s (declared in elem_amd64.go).
// They take any n > 0 and do a row's last n mod 16 (or 8) elements in
// the vector registers too (loaded under a mask or by pieces, stored by
// pieces, never writing past the row), so vl is 1: no element goes
// to the scalar tail, and a row's values do not depend on its length.

//go:generate go run -C ../asm ./elem -out ../vec/elem_amd64.s -stubs ../vec/elem_amd64.go -pkg vec

func init() {
	avx512.vl = 1
	avx512.maxf = maxfAVX512
	avx512.expSub = expSubAVX512
	avx512.scale = scaleAVX512
	avx512.sum = sumAVX512
	avx512.gelu = geluAVX512
	avx512.biasGelu = biasGeluAVX512
	avx512.binVV = [numOps]func(a, c, y *float32, n int){Add: addVVAVX512, Sub: subVVAVX512, Mul: mulVVAVX512, Div: divVVAVX512}
	avx512.binVS = [numOps]func(a *float32, s float32, y *float32, n int){Add: addVSAVX512, Sub: subVSAVX512, Mul: mulVSAVX512, Div: divVSAVX512}
	avx512.binSV = [numOps]func(s float32, c, y *float32, n int){Add: addSVAVX512, Sub: subSVAVX512, Mul: mulSVAVX512, Div: divSVAVX512}

	avx2.vl = 1
	avx2.maxf = maxfAVX2
	avx2.expSub = expSubAVX2
	avx2.scale = scaleAVX2
	avx2.sum = sumAVX2
	avx2.gelu = geluAVX2
	avx2.biasGelu = biasGeluAVX2
	avx2.binVV = [numOps]func(a, c, y *float32, n int){Add: addVVAVX2, Sub: subVVAVX2, Mul: mulVVAVX2, Div: divVVAVX2}
	avx2.binVS = [numOps]func(a *float32, s float32, y *float32, n int){Add: addVSAVX2, Sub: subVSAVX2, Mul: mulVSAVX2, Div: divVSAVX2}
	avx2.binSV = [numOps]func(s float32, c, y *float32, n int){Add: addSVAVX2, Sub: subSVAVX2, Mul: mulSVAVX2, Div: divSVAVX2}
}

package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// gemmTimed runs f b.N times and reports GFLOPS (f does flops) and, when
// bytes > 0, GB/s, both over the mean call and over the fastest: the
// machine is shared, and the fastest call is the one nobody interrupted.
func gemmTimed(b *testing.B, flops, bytes float64, f func()) {
	b.SetBytes(int64(flops)) // "MB/s" reads as MFLOPS
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t := time.Now()
		f()
		best = min(best, time.Since(t))
	}
	mean := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(flops/mean/1e9, "GFLOPS")
	b.ReportMetric(flops/best.Seconds()/1e9, "bestGFLOPS")
	if bytes > 0 {
		b.ReportMetric(bytes/mean/1e9, "wGB/s")
		b.ReportMetric(bytes/best.Seconds()/1e9, "bestwGB/s")
	}
}

// TestGemmTiles calls the amd64 GEMM kernels directly on every row count
// up to a few tiles (so every tile height and split runs), every strip
// width, odd k and strides wider than the operands. Everything around
// the operands is NaN: a read of any lhs column ≥ k, any weight column
// ≥ w or any row beyond m would show in the output, and a write outside
// it in the padding.
func TestGemmTiles(t *testing.T) {
	for _, im := range []*impl{avx512, avx2} {
		if !im.supported() {
			t.Logf("%s: not supported by this CPU", im.name)
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(13, 14))
			nan := float32(math.NaN())
			sw := im.stripW
			maxM := 48
			if testing.Short() {
				maxM = 31
			}
			for _, k := range []int{1, 2, 3, 8, 17} {
				for m := 1; m <= maxM; m++ {
					for w := 1; w <= sw; w++ {
						acc := (m+w+k)%3 == 0 // accumulating into the output's values
						ldl, ldr, ldo := k+1+rng.IntN(3), w+rng.IntN(5), w+1+rng.IntN(3)
						if w == sw && m%2 == 0 {
							ldr = sw // the packed layout
						}
						L := make([]float32, (m+1)*ldl)
						R := make([]float32, (k+1)*ldr)
						O := make([]float32, (m+2)*ldo)
						for _, s := range [][]float32{L, R, O} {
							for i := range s {
								s[i] = nan
							}
						}
						for i := range m {
							for p := range k {
								L[i*ldl+p] = rng.Float32()*2 - 1
							}
						}
						for p := range k {
							for j := range w {
								R[p*ldr+j] = rng.Float32()*2 - 1
							}
						}
						prior := make([]float32, m*w)
						if acc {
							for i := range m {
								for j := range w {
									prior[i*w+j] = rng.Float32()*2 - 1
									O[(i+1)*ldo+j] = prior[i*w+j]
								}
							}
						}
						out := O[ldo:] // one padding row before
						accFlag := 0
						if acc {
							accFlag = 1
						}
						// pfn, pfs: somewhere in R or past it (hints, never read).
						im.gemm(&L[0], &R[0], &out[0], m, k, w, ldl, ldr, ldo, accFlag, rng.IntN(4096), rng.IntN(4096))
						for i := -1; i < m+1; i++ {
							for j := range ldo {
								got := O[(i+1)*ldo+j]
								if i < 0 || i >= m || j >= w {
									if !math.IsNaN(float64(got)) {
										t.Fatalf("m=%d k=%d w=%d: wrote out[%d,%d] outside the output", m, k, w, i, j)
									}
									continue
								}
								want := float64(prior[i*w+j])
								for p := range k {
									want += float64(L[i*ldl+p]) * float64(R[p*ldr+j])
								}
								if d := math.Abs(float64(got) - want); !(d <= 1e-5*float64(k)) {
									t.Fatalf("m=%d k=%d w=%d (ldl %d ldr %d ldo %d): out[%d,%d] = %v, want %v", m, k, w, ldl, ldr, ldo, i, j, got, want)
								}
							}
						}
					}
				}
			}
		})
	}
}

// BenchmarkFMAPeak measures this core's FMA throughput with register-only
// FMA chains: the ceiling the GEMM is judged against. "MB/s" reads as
// MFLOPS.
func BenchmarkFMAPeak(b *testing.B) {
	const n = 1 << 12
	for _, c := range []struct {
		im    *impl
		f     func(int)
		flops int
	}{{avx512, fmaPeakAVX512, 768}, {avx2, fmaPeakAVX2, 192}} {
		if !c.im.supported() {
			continue
		}
		b.Run(c.im.name, func(b *testing.B) {
			gemmTimed(b, float64(n*c.flops), 0, func() { c.f(n) })
		})
	}
}

// BenchmarkGemmAMD64: the amd64 kernels on BERT-sized products, with the
// weights packed (vec.Pack) and row-major, reporting GFLOPS and, for a
// short query's rows, the rate at which the weights are streamed (GB/s:
// k·n·4 bytes a product).
func BenchmarkGemmAMD64(b *testing.B) {
	prev := Active()
	defer Use(prev)
	for _, name := range Levels() {
		if name == "generic" {
			continue
		}
		Use(name)
		for _, sh := range gemmBenchShapes {
			m, n, k := sh[0], sh[1], sh[2]
			r := rand.New(rand.NewPCG(1, 2))
			l, w, o := randSlice(r, m*k, 1), randSlice(r, k*n, 1), make([]float32, m*n)
			p := make([]float32, len(w))
			sw := Pack(p, w, k, n)
			for _, packed := range []bool{true, false} {
				rhs, pk, layout := p, sw, "packed"
				if !packed {
					rhs, pk, layout = w, 0, "rowmajor"
				}
				b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", name, m, n, k, layout), func(b *testing.B) {
					wbytes := float64(4 * k * n) // weights streamed once: one tile a strip
					if m > 14 {
						wbytes = 0
					}
					gemmTimed(b, float64(2*m*n*k), wbytes, func() {
						GemmStrips(l, rhs, o, m, n, k, 0, Strips(n), pk)
					})
				})
			}
		}
	}
}

var gemmBenchShapes = [][3]int{{12, 384, 384}, {2048, 384, 384}, {512, 384, 384}, {14, 384, 384}}

// BenchmarkGemmCold: the products of a short query (12, 16 and 24 rows)
// with weights that are not in cache, as in a model pass (each layer's
// weights are read once): a pool of 128 packed 384×384 weights (75 MB)
// used in turn. wGB/s is the rate the weights stream at.
func BenchmarkGemmCold(b *testing.B) {
	prev := Active()
	defer Use(prev)
	for _, name := range Levels() {
		if name == "generic" {
			continue
		}
		Use(name)
		const n, k, pool = 384, 384, 128
		r := rand.New(rand.NewPCG(1, 2))
		ws := make([][]float32, pool)
		sw := 0
		for i := range ws {
			w := randSlice(r, k*n, 1)
			ws[i] = make([]float32, k*n)
			sw = Pack(ws[i], w, k, n)
		}
		// 12 rows: one tile, bound by the weights' stream; 16 and 24: two
		// tiles, computed by k chunks (gemmChunked; docs/perf.md, round 4).
		for _, m := range []int{12, 16, 24} {
			l, o := randSlice(r, m*k, 1), make([]float32, m*n)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				i := 0
				gemmTimed(b, float64(2*m*n*k), float64(4*k*n), func() {
					GemmStrips(l, ws[i%pool], o, m, n, k, 0, Strips(n), sw)
					i++
				})
			})
		}
	}
}

// BenchmarkGemmModelWeights: a batch pass's products as the model runs
// them, on one core: MiniLM's six per layer (Q, K, V and output 384×384,
// 384→1536, 1536→384), 36 in turn, packed, on 320 rows (an s40 pass) and
// 512 (an l256 pass). With weights=36 every product has weights of its
// own (42 MB, read once a pass as in the model), with 6 one layer's are
// reused (7 MB), and with 1 a single 384×384 weight (cached) stands for
// all. GFLOPS is over the 36 products (docs/perf.md, round 6).
func BenchmarkGemmModelWeights(b *testing.B) {
	prev := Active()
	defer Use(prev)
	layer := [][2]int{{384, 384}, {384, 384}, {384, 384}, {384, 384}, {384, 1536}, {1536, 384}}
	for _, name := range Levels() {
		if name == "generic" {
			continue
		}
		Use(name)
		r := rand.New(rand.NewPCG(1, 2))
		type weight struct {
			p    []float32
			k, n int
		}
		pack := func(k, n int) weight {
			p := make([]float32, k*n)
			Pack(p, randSlice(r, k*n, 1), k, n)
			return weight{p, k, n}
		}
		sets := map[int][]weight{1: {pack(384, 384)}}
		for _, count := range []int{6, 36} {
			for i := range count {
				sets[count] = append(sets[count], pack(layer[i%6][0], layer[i%6][1]))
			}
		}
		for _, m := range []int{320, 512} {
			l, o := randSlice(r, m*1536, 1), make([]float32, m*1536)
			for _, count := range []int{1, 6, 36} {
				ws := sets[count]
				flops := 0
				for j := range 36 {
					w := ws[j%count]
					flops += 2 * m * w.k * w.n
				}
				b.Run(fmt.Sprintf("%s/m=%d/weights=%d", name, m, count), func(b *testing.B) {
					gemmTimed(b, float64(flops), 0, func() {
						for j := range 36 {
							w := ws[j%count]
							GemmStrips(l, w.p, o, m, w.n, w.k, 0, Strips(w.n), StripWidth())
						}
					})
				})
			}
		}
	}
}

// BenchmarkGemmNarrow: strips of at most 16 columns (attention scores
// over a short sequence, an odd width's last strip), row-major.
func BenchmarkGemmNarrow(b *testing.B) {
	prev := Active()
	defer Use(prev)
	for _, name := range Levels() {
		if name == "generic" {
			continue
		}
		Use(name)
		for _, sh := range [][3]int{{256, 12, 32}, {256, 16, 384}} {
			m, n, k := sh[0], sh[1], sh[2]
			r := rand.New(rand.NewPCG(1, 2))
			l, w, o := randSlice(r, m*k, 1), randSlice(r, k*n, 1), make([]float32, m*n)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				gemmTimed(b, float64(2*m*n*k), 0, func() { Gemm(l, w, o, m, n, k) })
			})
		}
	}
}

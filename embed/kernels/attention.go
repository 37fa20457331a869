package kernels

import (
	"reflect"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

// sdpaExec: attention, softmax(scale·Q·Kᵀ + mask)·V, for each (batch,
// head) a block of query rows at a time, so that a block's scores are
// computed, masked, normalised and multiplied by V while they are in
// the cache. The decomposed form wrote the [batch, heads, seq, seq]
// scores, passed over them to add the mask and for the softmax, read
// them for the product with V, and transposed K with perm [0, 2, 3, 1]
// first (docs/perf.md, round 4). The rewrite (embed/onnxrewrite) turns
// BERT's attention into the MultiHeadAttention that onnx-gomlx lowers to
// this op.
//
// Taken: float32, the BHSD layout, as many key/value heads as query
// heads, no causal mask, and an additive float32 mask of rank ≤ 4
// broadcastable to the scores (or none). Anything else goes to simplego's
// executor.
func sdpaExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		p, ok := sdpaParams(b, n, in)
		if !ok {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, nodeShape(n), in, owned, 0)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeFusedScaledDotProductAttention)
		p.out = y
		units := p.batch * p.heads
		parallel(units, units*p.seq*p.kv*p.dim/8, func(from, to int) {
			sc := sdpaScratch.Get().(*[]float32)
			for u := from; u < to; u++ {
				p.unit(u, sc)
			}
			sdpaScratch.Put(sc)
		})
		return out, nil
	}
}

var sdpaScratch = sync.Pool{New: func() any { return new([]float32) }}

type sdpa struct {
	q, k, v, mask, out    []float32
	batch, heads, seq, kv int
	dim                   int
	scale                 float32
	maskB, maskH, maskS   int // the mask's strides (0: broadcast)
	rows                  int // query rows per block
	maskZero              bool
}

func sdpaParams(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer) (sdpa, bool) {
	var p sdpa
	if len(in) < 3 || len(in) > 4 {
		return p, false
	}
	data := nodeData(n)
	heads, ok1 := intField(data, "numHeads")
	kvHeads, ok2 := intField(data, "numKVHeads")
	layout, ok3 := intField(data, "axesLayout")
	scale, ok4 := floatField(data, "scale")
	causal, ok5 := boolField(data, "causal")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || causal || heads != kvHeads || layout != int(backends.AxesLayoutBHSD) {
		return p, false
	}
	q, qs, okq := f32(b, in[0])
	k, ks, okk := f32(b, in[1])
	v, vs, okv := f32(b, in[2])
	if !okq || !okk || !okv || qs.Rank() != 4 || !ks.Equal(vs) || ks.Rank() != 4 || !qs.Equal(nodeShape(n)) {
		return p, false
	}
	p.batch, p.heads, p.seq, p.dim = qs.Dimensions[0], qs.Dimensions[1], qs.Dimensions[2], qs.Dimensions[3]
	p.kv = ks.Dimensions[2]
	if p.heads != heads || ks.Dimensions[0] != p.batch || ks.Dimensions[1] != p.heads || ks.Dimensions[3] != p.dim ||
		p.batch*p.heads*p.seq*p.dim == 0 || p.kv == 0 {
		return p, false
	}
	p.q, p.k, p.v, p.scale = q, k, v, float32(scale)
	if len(in) == 4 && in[3] != nil {
		m, ms, ok := f32(b, in[3])
		if !ok || ms.Rank() < 2 || ms.Rank() > 4 || ms.DType != dtypes.Float32 {
			return p, false
		}
		d := append(make([]int, 4-ms.Rank()), ms.Dimensions...)
		for i := range 4 - ms.Rank() {
			d[i] = 1
		}
		want := [4]int{p.batch, p.heads, p.seq, p.kv}
		for i := range 3 {
			if d[i] != 1 && d[i] != want[i] {
				return p, false
			}
		}
		if d[3] != p.kv {
			return p, false
		}
		if d[2] > 1 {
			p.maskS = p.kv
		}
		if d[1] > 1 {
			p.maskH = d[2] * p.kv
		}
		if d[0] > 1 {
			p.maskB = d[1] * d[2] * p.kv
		}
		p.mask = m
		// BERT's additive mask is −0 for every real token: an unpadded
		// batch's adds nothing (x + (−0) is x).
		p.maskZero = true
		for _, x := range m {
			if x != 0 {
				p.maskZero = false
				break
			}
		}
	}
	p.rows = sdpaRows(p.seq, p.kv)
	return p, true
}

// sdpaRows is how many query rows a block takes: its scores, rows × kv,
// within ~32 KiB, and 42 rows are whole register tiles of the AVX-512 (14)
// and AVX2/NEON (6) kernels. (Blocks of 14 to 256 rows ran within 5% of
// each other at 256 tokens, BenchmarkAttention.)
func sdpaRows(seq, kv int) int {
	return min(seq, max(42, 8192/kv/42*42))
}

// unit computes attention for one (batch, head).
func (p *sdpa) unit(u int, scratch *[]float32) {
	bi, h := u/p.heads, u%p.heads
	d, kv, rows := p.dim, p.kv, p.rows
	need := d*kv + rows*kv + rows
	if cap(*scratch) < need {
		*scratch = make([]float32, need)
	}
	sc := (*scratch)[:need]
	kt, s, inv := sc[:d*kv], sc[d*kv:d*kv+rows*kv], sc[d*kv+rows*kv:]
	kvOff := u * kv * d
	// Kᵀ, [d, kv] for the product's right operand, scaled: the scale
	// multiplies kv·d values here rather than seq·kv scores.
	transposeScaled(kt, p.k[kvOff:kvOff+kv*d], kv, d, p.scale)
	vh := p.v[kvOff : kvOff+kv*d]
	qOff := u * p.seq * d
	for r0 := 0; r0 < p.seq; r0 += rows {
		m := min(rows, p.seq-r0)
		sb := s[:m*kv]
		vec.Gemm(p.q[qOff+r0*d:qOff+(r0+m)*d], kt, sb, m, kv, d)
		for i := range m {
			row := sb[i*kv : (i+1)*kv]
			if p.mask != nil && !p.maskZero {
				mo := bi*p.maskB + h*p.maskH + (r0+i)*p.maskS
				vec.Binary(vec.Add, row, row, p.mask[mo:mo+kv], false, false)
			}
			inv[i] = 1 / vec.ExpMax(row, row)
		}
		// The softmax's division, by each row's sum, is applied to the
		// output row (d values) instead of the scores (kv values).
		ob := p.out[qOff+r0*d : qOff+(r0+m)*d]
		vec.Gemm(sb, vh, ob, m, d, kv)
		for i := range m {
			o := ob[i*d : (i+1)*d]
			vec.Binary(vec.Mul, o, o, inv[i:i+1], false, true)
		}
	}
}

// transposeScaled writes dst [d, kv] = scale · srcᵀ for src [kv, d].
func transposeScaled(dst, src []float32, kv, d int, scale float32) {
	dst, src = dst[:kv*d], src[:kv*d]
	j := 0
	for ; j+4 <= kv; j += 4 {
		r0 := src[j*d : j*d+d]
		r1 := src[(j+1)*d : (j+1)*d+d]
		r2 := src[(j+2)*d : (j+2)*d+d]
		r3 := src[(j+3)*d : (j+3)*d+d]
		for c := range r0 {
			o := dst[c*kv+j : c*kv+j+4]
			o[0], o[1], o[2], o[3] = r0[c]*scale, r1[c]*scale, r2[c]*scale, r3[c]*scale
		}
	}
	for ; j < kv; j++ {
		for c, x := range src[j*d : j*d+d] {
			dst[c*kv+j] = x * scale
		}
	}
}

// floatField and boolField read a field of the struct that data points
// to, like intField.
func floatField(data any, name string) (float64, bool) {
	f, ok := field(data, name)
	if !ok || !f.CanFloat() {
		return 0, false
	}
	return f.Float(), true
}

func boolField(data any, name string) (bool, bool) {
	f, ok := field(data, name)
	if !ok || f.Kind() != reflect.Bool {
		return false, false
	}
	return f.Bool(), true
}

func field(data any, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid()
}

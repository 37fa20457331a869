package memory

import (
	"math"
	"sort"
	"time"
)

// The final ranking of a recall. Stores rank by keyword and by vector; the
// memory service then scores every candidate with one formula, the same in
// every mode, so that a score means the same thing whatever found it:
//
//	relevance = Σ 1/(RRFConstant + rank)  over the rankings the query ran,
//	            divided by that sum at rank 1 (so 1 = first in every ranking)
//	recency   = 2^(−age / half-life), age since the memory was written
//	            (1 when the half-life is 0: recency off)
//	use       = n / (n + UseSaturation), n = times it was used (returned
//	            by a recall, or injected by the prompt hook)
//	score     = relevance × (1 + RecencyWeight·recency + UseWeight·use)
//	                      / (1 + RecencyWeight + UseWeight)
//	            + PinBoost if pinned
//
// Relevance dominates: recency and use reorder memories of similar
// relevance (a new version of a fact beats the old one it did not replace
// explicitly) but never lift an unrelated one. A pinned memory always
// competes (the service adds it to the candidates even when neither ranking
// found it) and, with PinBoost above any unpinned score, is always in the
// top k. Without pins a score is in [0, 1]; with one, in [1, 2].
const (
	RecencyWeight = 0.25
	UseWeight     = 0.10
	UseSaturation = 5.0
	PinBoost      = 1.0
)

// DefaultHalfLife is the recency half-life when none is configured.
const DefaultHalfLife = 30 * 24 * time.Hour

// ScoreParts explains a hit's score (Hit.Why).
type ScoreParts struct {
	Relevance float64 `json:"relevance"` // fused rank relevance, 0..1
	Recency   float64 `json:"recency"`   // 0..1, 1 = just written
	Use       float64 `json:"use"`       // 0..1, from the recall count
	Pinned    bool    `json:"pinned,omitempty"`
}

// Ranker scores candidates with the formula above.
type Ranker struct {
	Now      time.Time
	HalfLife time.Duration // 0: recency off (every memory counts as new)
	// Keyword and Semantic say which rankings the query ran.
	Keyword, Semantic bool
	// IgnorePins ranks pinned memories like the others (the prompt hook:
	// session start injected them already).
	IgnorePins bool
}

// Parts computes the components of h's score.
func (r Ranker) Parts(h Hit) ScoreParts {
	var p ScoreParts
	var top float64
	if r.Keyword {
		top += 1.0 / (RRFConstant + 1)
		if h.KeywordRank > 0 {
			p.Relevance += 1.0 / float64(RRFConstant+h.KeywordRank)
		}
	}
	if r.Semantic {
		top += 1.0 / (RRFConstant + 1)
		if h.SemanticRank > 0 {
			p.Relevance += 1.0 / float64(RRFConstant+h.SemanticRank)
		}
	}
	if top > 0 {
		p.Relevance /= top
	}
	p.Recency = 1
	if r.HalfLife > 0 {
		age := r.Now.Sub(h.Memory.CreatedAt)
		if age > 0 {
			p.Recency = math.Exp2(-float64(age) / float64(r.HalfLife))
		}
	}
	n := float64(max(h.Memory.RecallCount, 0))
	p.Use = n / (n + UseSaturation)
	p.Pinned = h.Memory.Pinned && !r.IgnorePins
	return p
}

// Score combines the parts.
func (p ScoreParts) Score() float64 {
	s := p.Relevance * (1 + RecencyWeight*p.Recency + UseWeight*p.Use) / (1 + RecencyWeight + UseWeight)
	if p.Pinned {
		s += PinBoost
	}
	return s
}

// Rank scores hits (setting Score and Why), sorts them best first (ties:
// newer id first) and keeps at most k.
func (r Ranker) Rank(hits []Hit, k int) []Hit {
	for i := range hits {
		p := r.Parts(hits[i])
		p.Relevance, p.Recency, p.Use = round6(p.Relevance), round6(p.Recency), round6(p.Use)
		hits[i].Why = &p
		hits[i].Score = round6(p.Score())
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Memory.ID > hits[j].Memory.ID
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

package main

// Ks are the cut-offs reported.
var Ks = []int{5, 10}

// Scores of one question in one mode: for each k, whether any evidence
// document is in the top k (recall_any@k, what "R@k" means in LongMemEval's
// and the memory servers' reports) and whether all of them are
// (recall_all@k).
type Scores struct {
	Any map[int]bool `json:"any"`
	All map[int]bool `json:"all"`
}

// score computes Scores from the ranked document ids (best first; a
// memory holding several identical documents contributes all of their ids
// at its rank) and the set of evidence ids, which must not be empty.
func score(ranked [][]string, evidence map[string]bool) Scores {
	s := Scores{Any: map[int]bool{}, All: map[int]bool{}}
	for _, k := range Ks {
		seen := map[string]bool{}
		for i := 0; i < k && i < len(ranked); i++ {
			for _, id := range ranked[i] {
				if evidence[id] {
					seen[id] = true
				}
			}
		}
		s.Any[k] = len(seen) > 0
		s.All[k] = len(seen) == len(evidence)
	}
	return s
}

// Tally accumulates Scores over questions.
type Tally struct {
	N   int         `json:"n"`
	Any map[int]int `json:"any"`
	All map[int]int `json:"all"`
}

func (t *Tally) add(s Scores) {
	if t.Any == nil {
		t.Any, t.All = map[int]int{}, map[int]int{}
	}
	t.N++
	for _, k := range Ks {
		if s.Any[k] {
			t.Any[k]++
		}
		if s.All[k] {
			t.All[k]++
		}
	}
}

// rate is a percentage of t.N.
func (t Tally) rate(n int) float64 {
	if t.N == 0 {
		return 0
	}
	return 100 * float64(n) / float64(t.N)
}

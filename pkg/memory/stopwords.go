package memory

import "strings"

// IsStopWord reports whether w (lower-case) is a common English function
// word that carries no ranking signal. Keyword search drops them from the
// query so "what is a good recipe for bread" ranks by "good recipe bread"
// instead of by whichever memory happens to contain "for"; the hooks use the
// same list to judge whether a prompt and a memory share content words.
func IsStopWord(w string) bool { return stopWords[w] }

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a an i is of to in on at be by do if it me my no or so up us we as am
		the and for are but not you all any can had her was one our out has him his how new now see two way who its did get may use
		she too they them then than that this with from have what when where which while will would could should there their here into onto
		about above after again against been before being below between both does doing down during each few further just more most other
		some such only own same very once over under until also your yours mine myself yourself itself ourselves themselves these those
		were let lets please thanks thank okay yes hello can't don't i'm it's want need like make made tell know think give show help`) {
		m[w] = true
	}
	return m
}()

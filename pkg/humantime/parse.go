package humantime

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// MaxAgeDays bounds an age ("36500d" is a century): beyond it a duration
// would overflow, and no memory is that old.
const MaxAgeDays = 100000

// ErrSyntax is Parse's error: s is none of the forms it reads. Callers name
// the argument ("--since", "argument \"since\"") and add Forms.
var ErrSyntax = errors.New("not a time, a date or an age")

// Forms describes what Parse reads, for error messages.
const Forms = "an RFC 3339 time (2025-01-31T12:00:00Z), a date (2025-01-31) or an age such as 36h, 7d, 1.5d, 2w"

// Parse reads a point in time as people write it on the command line and in
// MCP arguments (recall's since/until), the same way for both:
//
//   - an RFC 3339 time, with or without fractional seconds: that instant;
//   - a date, 2006-01-02: midnight at the start of that day in now's
//     location (callers pass time.Now(), so the user's own day);
//   - an age back from now: a number (decimals allowed) of days (d) or
//     weeks (w), or a Go duration (90m, 36h); at least 0, at most
//     MaxAgeDays days.
//
// Surrounding space is ignored; anything else is ErrSyntax.
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, now.Location()); err == nil {
		return t, nil
	}
	if n := len(s); n >= 2 {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[n-1]]
		if unit > 0 {
			v, err := strconv.ParseFloat(s[:n-1], 64)
			if err == nil && v >= 0 && v*float64(unit) <= MaxAgeDays*float64(24*time.Hour) && !strings.ContainsAny(s[:n-1], "eExXpP_") {
				return now.Add(-time.Duration(v * float64(unit))), nil
			}
			return time.Time{}, ErrSyntax
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 && d <= MaxAgeDays*24*time.Hour {
		return now.Add(-d), nil
	}
	return time.Time{}, ErrSyntax
}

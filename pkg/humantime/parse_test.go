package humantime

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2026, 3, 10, 15, 30, 0, 0, loc)
	day := 24 * time.Hour
	for in, want := range map[string]time.Time{
		"2026-01-02T03:04:05Z":        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"2026-01-02T03:04:05.5+01:00": time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.FixedZone("", 3600)),
		"2026-01-02":                  time.Date(2026, 1, 2, 0, 0, 0, 0, loc), // the user's midnight, not UTC's
		" 7d ":                        now.Add(-7 * day),
		"1.5d":                        now.Add(-36 * time.Hour),
		"2w":                          now.Add(-14 * day),
		"36h":                         now.Add(-36 * time.Hour),
		"90m":                         now.Add(-90 * time.Minute),
		"0d":                          now,
	} {
		got, err := Parse(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "last tuesday", "-5h", "-1d", "1e99d", "1e3d", "0x10d", "1_0d", "99999999999h", "200000d", "d", "7days", "2026-13-01", "NaNd", "Infd"} {
		if got, err := Parse(bad, now); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, %v; want ErrSyntax", bad, got, err)
		}
	}
}

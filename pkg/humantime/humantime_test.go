package humantime

import (
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago",
		3 * day: "3d ago", 20 * day: "2w ago", 120 * day: "4mo ago", 800 * day: "2y ago",
		-time.Hour: "just now", // clock skew between processes: never "-60m ago"
	} {
		if got := Ago(now, now.Add(-d)); got != want {
			t.Errorf("Ago(-%v) = %q, want %q", d, got, want)
		}
	}
	if got := Ago(now, time.Time{}); got != "unknown" {
		t.Errorf("zero time: %q", got)
	}
}

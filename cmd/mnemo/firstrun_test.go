package main

import (
	"net"
	"strings"
	"testing"
)

// refusingURL is a loopback URL nothing listens on: every download from it
// is refused at once, as on a machine without internet.
func refusingURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// A first run where the hub cannot be reached: each command either works
// (by keyword) or prints one message with the three ways out; no retry
// lines, stack traces or raw dial errors on the terminal (they are in the
// log file), and doctor gives the true reason.
func TestFirstRunWithoutReachableModel(t *testing.T) {
	home := cliEnv(t, "")
	t.Setenv("MNEMO_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
	t.Setenv("MNEMO_OFFLINE", "")
	t.Setenv("MNEMO_HUB_URL", refusingURL(t))

	noNoise := func(what string, r cliResult) {
		t.Helper()
		for _, bad := range []string{"level=WARN", "level=ERROR", "dial tcp", "goroutine ", "panic:"} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("%s: %q on the terminal:\n%s", what, bad, r)
			}
		}
	}
	waysOut := func(what string, r cliResult) {
		t.Helper()
		for _, want := range []string{"MNEMO_MODEL=/path/to/folder", "mnemo pull", "MNEMO_OFFLINE=1", "cannot reach http://127.0.0.1:", "connection refused"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: message lacks %q:\n%s", what, want, r)
			}
		}
	}

	r := mnemoExec(t, "", "remember", "the staging database listens on port 5433")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "remembered ") || strings.Count(r.stderr, "is not available") != 1 {
		t.Fatalf("remember: %s", r)
	}
	noNoise("remember", r)
	waysOut("remember", r)

	r = mnemoExec(t, "", "recall", "staging database")
	if r.code != 0 || !strings.Contains(r.stdout, "port 5433") {
		t.Fatalf("recall must answer by keyword: %s", r)
	}
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); !strings.Contains(r.stderr, "answered by keyword only") ||
		!strings.Contains(lines[len(lines)-1], "answered by keyword only") || strings.Contains(lines[len(lines)-1], "\n") {
		t.Errorf("recall: want a one-line keyword note: %s", r)
	}
	noNoise("recall", r)

	r = mnemoExec(t, "", "recall", "staging", "--mode", "semantic")
	if r.code != 1 {
		t.Errorf("semantic recall without a model: exit %d, want 1", r.code)
	}
	noNoise("recall --mode semantic", r)
	waysOut("recall --mode semantic", r)

	r = mnemoExec(t, "", "pull")
	if r.code != 1 {
		t.Errorf("pull: exit %d, want 1", r.code)
	}
	noNoise("pull", r)
	waysOut("pull", r)

	r = mnemoExec(t, "", "embed", "hello")
	if r.code != 1 {
		t.Errorf("embed: exit %d, want 1", r.code)
	}
	noNoise("embed", r)
	waysOut("embed", r)

	r = mnemoExec(t, "", "doctor")
	if strings.Contains(r.stdout, "offline mode (MNEMO_OFFLINE) is on") || !strings.Contains(r.stdout, "has not been downloaded yet") ||
		!strings.Contains(r.stdout, "MNEMO_OFFLINE=1 for keyword search only") {
		t.Errorf("doctor's model line blames MNEMO_OFFLINE or gives no way out:\n%s", r.stdout)
	}
	// Being offline is the machine's state, not an error of mnemo's: the
	// log check does not count it, and no raw dial error is shown.
	if strings.Contains(r.stdout, "dial tcp") || strings.Contains(r.stdout, "recent errors") {
		t.Errorf("doctor shows the offline first run as log errors:\n%s", r.stdout)
	}
	// The engine's retries are in the log, for whoever needs them.
	if log := logText(t, home); !strings.Contains(log, "retrying") {
		t.Errorf("retries not in the log file:\n%s", log)
	}

	// MNEMO_OFFLINE=1: keyword recall, said in one line, naming the setting.
	t.Setenv("MNEMO_OFFLINE", "1")
	r = mnemoExec(t, "", "recall", "staging database")
	if r.code != 0 || !strings.Contains(r.stdout, "port 5433") || !strings.Contains(r.stderr, "MNEMO_OFFLINE=1") {
		t.Errorf("offline recall: %s", r)
	}
}

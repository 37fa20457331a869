package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMainHelperProcess is not a test: mnemoExec runs the test binary
// through it as the real `mnemo` process (its own os.Args, stdin, stdout,
// stderr and exit status).
func TestMainHelperProcess(t *testing.T) {
	if os.Getenv("MNEMO_MAIN_HELPER") != "1" {
		t.Skip("helper process for mnemoExec")
	}
	setMoveFault(os.Getenv("MNEMO_TEST_MOVE_FAULT"))
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, &runEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// mnemoExec runs `mnemo args…` as a separate process with the test's
// environment (t.Setenv) and stdin.
func mnemoExec(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestMainHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "MNEMO_MAIN_HELPER=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mnemo %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

//go:build !(amd64 && goexperiment.simd)

package fastops

import (
	"errors"
	"io"
)

var errUnsupported = errors.New("fast executors need an amd64 build with GOEXPERIMENT=simd")

// Install is unavailable on this build: simplego keeps its own executors.
func Install() error { return errUnsupported }

// Installed reports whether Install replaced simplego's executors.
func Installed() bool { return false }

// StartProfile is unavailable on this build.
func StartProfile() error { return errUnsupported }

// StopProfile does nothing on this build.
func StopProfile(io.Writer) {}

// Supported reports whether this build and CPU can run the executors.
func Supported() bool { return false }

// BeginPass marks a forward pass as running; nothing to track here.
func BeginPass() (end func()) { return func() {} }

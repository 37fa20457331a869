// Package warm lets a short-lived process (a Claude Code hook) use the model
// that a running `mnemo serve` of the same user already has loaded, instead
// of loading it again (seconds) on every prompt.
//
// Every serve process listens on $MNEMO_HOME/run/<pid>.sock: the directory
// is 0700, the socket 0600, and each side checks the other's uid with
// SO_PEERCRED, so only the same user can talk to it. The protocol is one
// JSON object per line each way: a Request, then its Response; a connection
// may carry several. Clients try live sockets newest first and delete the
// sockets of processes that are gone.
package warm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// ProtocolVersion is sent with every request; a server answers requests of
// another version with an error so old and new binaries never misread each
// other.
const ProtocolVersion = 1

// maxLineBytes bounds one request or response line.
const maxLineBytes = 4 << 20

// ErrNoServer means no running server answered: the caller falls back.
var ErrNoServer = errors.New("no running mnemo server")

// Dir is the socket directory of a data dir (MNEMO_HOME): home/run, or,
// when the sockets' paths there would not fit in a unix socket address
// (104 bytes on macOS, 108 on Linux and Windows, counting the final NUL), a
// short per-user directory under the temp dir named after home, which every
// process of that data dir computes alike. prepareDir makes it 0700 and
// refuses one another user owns.
func Dir(home string) string {
	d := filepath.Join(home, "run")
	if len(SocketPath(d, maxPID))+len(".tmp") < maxSocketPath {
		return d
	}
	sum := sha256.Sum256([]byte(filepath.Clean(home)))
	return filepath.Join(os.TempDir(), "mnemo-"+hex.EncodeToString(sum[:6]))
}

// maxPID is the widest process id a socket name can hold (Windows's are
// 32-bit; Linux's stop at 4194304).
const maxPID = 4294967295

// maxSocketPath is the size of sockaddr_un's sun_path here.
var maxSocketPath = func() int {
	switch runtime.GOOS {
	case "darwin", "ios", "freebsd", "openbsd", "netbsd", "dragonfly":
		return 104
	}
	return 108
}()

// Request is one line a client sends.
type Request struct {
	V  int    `json:"v"`
	Op string `json:"op"` // "recall", "use" or "ping"
	// TimeoutMS is how long the client will wait; the server stops working
	// on the request after it.
	TimeoutMS int64          `json:"timeout_ms,omitempty"`
	Recall    *RecallRequest `json:"recall,omitempty"`
	// IDs are the memories a "use" request records as used.
	IDs []string `json:"ids,omitempty"`
}

// RecallRequest is service.RecallRequest on the wire.
type RecallRequest struct {
	Query       string      `json:"query"`
	K           int         `json:"k,omitempty"`
	Tags        []string    `json:"tags,omitempty"`
	TagsAll     bool        `json:"tags_all,omitempty"`
	Project     string      `json:"project,omitempty"`
	Mode        memory.Mode `json:"mode,omitempty"`
	Since       time.Time   `json:"since,omitzero"`
	Until       time.Time   `json:"until,omitzero"`
	ModelWaitMS int64       `json:"model_wait_ms,omitempty"`
	IgnorePins  bool        `json:"ignore_pins,omitempty"`
	NoUse       bool        `json:"no_use,omitempty"`
}

func toWire(r service.RecallRequest) *RecallRequest {
	return &RecallRequest{
		Query: r.Query, K: r.K, Tags: r.Tags, TagsAll: r.TagsAll, Project: r.Project,
		Mode: r.Mode, Since: r.Since, Until: r.Until, ModelWaitMS: r.ModelWait.Milliseconds(), IgnorePins: r.IgnorePins,
		NoUse: r.NoUse,
	}
}

func (r *RecallRequest) toService() service.RecallRequest {
	return service.RecallRequest{
		Query: r.Query, K: r.K, Tags: r.Tags, TagsAll: r.TagsAll, Project: r.Project,
		Mode: r.Mode, Since: r.Since, Until: r.Until, ModelWait: time.Duration(r.ModelWaitMS) * time.Millisecond,
		IgnorePins: r.IgnorePins, NoUse: r.NoUse,
	}
}

// Response is the line a server answers with.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Invalid marks an error caused by the request (service.ErrInvalidInput).
	Invalid bool `json:"invalid,omitempty"`
	// Busy means the server refused for load; try another.
	Busy bool `json:"busy,omitempty"`
	// Timeout means the request's timeout_ms ran out on the server.
	Timeout bool                  `json:"timeout,omitempty"`
	Recall  *service.RecallResult `json:"recall,omitempty"`
	Info    *Info                 `json:"info,omitempty"`
}

// Info describes a server (the answer to ping).
type Info struct {
	PID     int                  `json:"pid"`
	Started time.Time            `json:"started"`
	Model   *service.ModelStatus `json:"model,omitempty"`
	Socket  string               `json:"socket,omitempty"` // filled in by the client
}

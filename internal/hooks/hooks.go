package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/spool"
)

// Memories is the part of the memory service the hooks use; *service.Service
// satisfies it.
type Memories interface {
	Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error)
	List(ctx context.Context, req service.ListRequest) ([]memory.Memory, error)
	Remember(ctx context.Context, req service.RememberRequest) (service.RememberResult, error)
}

// Options wires a hook run to its environment.
type Options struct {
	// Budget bounds the whole run (config.HookBudget); 0 means 2s.
	Budget time.Duration
	// Capture enables session-end/pre-compact capture (MNEMO_HOOK_CAPTURE).
	Capture bool
	// Project names the project of the hook's working directory.
	Project func(cwd string) (string, error)
	// Warm recalls through a running `mnemo serve` (warm model); nil when
	// not wanted. It returns warm.ErrNoServer when none is running.
	Warm func(ctx context.Context, req service.RecallRequest) (service.RecallResult, error)
	// WarmUse records memories as used through a running server (those the
	// prompt hook injected after a warm recall); nil when not wanted.
	WarmUse func(ctx context.Context, ids []string) error
	// Open opens the local store as a memory service for project. close
	// releases it. The service normally has no model (keyword recall).
	Open func(ctx context.Context, project string) (m Memories, close func() error, err error)
	// LocalMode is the recall mode of the no-server fallback: keyword
	// (default, no model load) or hybrid when Open attaches a model.
	LocalMode memory.Mode
	// Relevance gates what user-prompt-submit injects.
	Relevance Relevance
	// MaxContextBytes caps additionalContext (default 2 KiB).
	MaxContextBytes int
	// Log receives one line per failure (default: discard).
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SpoolDir, when set, is where capture first writes the notes it is
	// about to store (durable, fsynced), so a store too busy to take them
	// within the budget loses nothing: the next process stores them.
	SpoolDir string
	// Author stamps spooled notes (user@host), as the service does.
	Author string
	// KeepSecrets spools notes verbatim (MNEMO_REDACT=off); by default
	// they are redacted first, as the service redacts what it stores.
	KeepSecrets bool

	// after is work that runs once the answer is written (set by Run).
	after *afterList
}

type afterList struct {
	mu  sync.Mutex
	fns []func() error
	ran bool // the answer is out: run what comes later at once
}

// afterAnswer defers fn until the answer has been written (closing a store
// may record the recall's uses, and the prompt must not wait for that).
func (o *Options) afterAnswer(fn func() error) {
	o.after.mu.Lock()
	if o.after.ran {
		o.after.mu.Unlock()
		_ = fn()
		return
	}
	o.after.fns = append(o.after.fns, fn)
	o.after.mu.Unlock()
}

func (o *Options) runAfter() {
	o.after.mu.Lock()
	fns := o.after.fns
	o.after.fns, o.after.ran = nil, true
	o.after.mu.Unlock()
	for _, fn := range fns {
		if err := fn(); err != nil {
			o.Log.Debug("hook: closing the store", "err", err)
		}
	}
}

// Result says what a run did; the command logs it, tests inspect it.
type Result struct {
	Event    Event
	Project  string
	Path     string // "warm", "local" or "" (nothing answered)
	Mode     memory.Mode
	Hits     int // results the recall returned
	Injected int // memories written to additionalContext
	Captured int // memories stored by capture
	Spooled  int // captured notes left spooled for a later process (store busy)
	Output   []byte
}

// captureInputWait bounds reading the input of a capture hook (session-end,
// pre-compact) when it exceeds the budget; `mnemo install` gives hooks a
// 10 s timeout.
const captureInputWait = 8 * time.Second

// Recall parameters of user-prompt-submit.
const (
	recallK        = 8
	maxInjected    = 5
	maxQueryBytes  = 2000
	digestRecent   = 5
	digestUsed     = 5
	digestListSize = 200
	// digestPinned bounds the pinned memories a session starts with.
	digestPinned = 50
)

func (o *Options) defaults() {
	if o.Budget <= 0 {
		o.Budget = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = logging.Discard()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxContextBytes <= 0 {
		o.MaxContextBytes = DefaultMaxContextBytes
	}
	if o.Relevance.MinSimilarity <= 0 {
		o.Relevance.MinSimilarity = DefaultMinSimilarity
	}
	if o.LocalMode == "" {
		o.LocalMode = memory.ModeKeyword
	}
	if o.Project == nil {
		o.Project = func(string) (string, error) { return memory.GlobalProject, nil }
	}
}

// Run handles one hook invocation: eventArg is the command-line event, stdin
// the hook JSON. It writes at most one JSON line to stdout, and only when
// there is something to inject. An error means the hook failed open (nothing
// was written); the caller logs it and still exits 0.
func Run(ctx context.Context, eventArg string, stdin io.Reader, stdout io.Writer, o Options) (Result, error) {
	o.defaults()
	o.after = &afterList{}
	defer o.runAfter()
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()

	ev, err := ParseEvent(eventArg)
	if err != nil {
		return Result{}, err
	}
	res := Result{Event: ev}
	inCtx := ctx
	if o.Capture && (ev == SessionEnd || ev == PreCompact) {
		// Capture injects nothing, and the notes exist only in this
		// input's transcript: on a box so busy that the process starts
		// late, its budget must not run out before it can spool them.
		// (Claude Code's own timeout still bounds the hook.)
		var cancel context.CancelFunc
		inCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), max(o.Budget, captureInputWait))
		defer cancel()
	}
	in, err := readInputCtx(inCtx, stdin)
	if err != nil {
		return res, err
	}
	if in.HookEventName != "" {
		if named, err := ParseEvent(in.HookEventName); err != nil || named != ev {
			// The command line is authoritative; a mismatch is worth a note.
			o.Log.Warn("hook: hook_event_name differs from the command's event", "event", ev, "hook_event_name", in.HookEventName)
		}
	}
	cwd := in.Cwd
	if cwd == "" {
		cwd, _ = os.Getwd()
	}
	if res.Project, err = o.Project(cwd); err != nil {
		return res, fmt.Errorf("project of %s: %w", cwd, err)
	}

	switch ev {
	case UserPromptSubmit:
		err = o.promptSubmit(ctx, in, &res)
	case SessionStart:
		err = o.sessionStart(ctx, &res)
	case SessionEnd, PreCompact:
		err = o.capture(ctx, in, &res)
	}
	if err != nil {
		return res, err
	}
	if len(res.Output) > 0 {
		if _, err := stdout.Write(res.Output); err != nil {
			return res, fmt.Errorf("write hook output: %w", err)
		}
	}
	return res, nil
}

// readInputCtx reads stdin but gives up when ctx is done (a stdin that is
// never closed must not hang the prompt).
func readInputCtx(ctx context.Context, r io.Reader) (Input, error) {
	type read struct {
		in  Input
		err error
	}
	ch := make(chan read, 1)
	go func() {
		in, err := ReadInput(r)
		ch <- read{in, err}
	}()
	select {
	case x := <-ch:
		return x.in, x.err
	case <-ctx.Done():
		return Input{}, fmt.Errorf("reading hook input: %w", ctx.Err())
	}
}

// answer is one recall path's outcome.
type answer struct {
	res  service.RecallResult
	path string
	err  error
	// use records the memories the hook injected, where the recall ran.
	use func(ids []string)
}

// useRecorder is implemented by a local service (*service.Service).
type useRecorder interface{ RecordUse(ids []string) }

// promptSubmit recalls memories related to the prompt. It asks a running
// server first (warm model, semantic); if there is none, or it errs, or it
// has not answered within half the budget, it also recalls from the local
// store (keyword, no model load). At the deadline it answers with what it
// has; a warm answer wins when both arrived.
func (o *Options) promptSubmit(ctx context.Context, in Input, res *Result) error {
	prompt := strings.TrimSpace(in.Prompt)
	if prompt == "" {
		return nil
	}
	req := service.RecallRequest{
		Query:   shorten(prompt, maxQueryBytes),
		K:       recallK,
		Project: res.Project,
		Mode:    memory.ModeHybrid,
		// Pinned memories came with the session start; here they would
		// only take the slots of what the prompt is about.
		IgnorePins: true,
		// Only what is injected counts as used (recorded below), not
		// everything the recall returned.
		NoUse: true,
	}
	ans, err := o.recallWithin(ctx, req)
	if err != nil {
		return err
	}
	res.Path, res.Mode, res.Hits = ans.path, ans.res.Mode, len(ans.res.Results)
	var keep []memory.Memory
	for _, h := range ans.res.Results {
		if o.Relevance.Keep(prompt, h, ans.res.Semantic) {
			keep = append(keep, h.Memory)
			if len(keep) == maxInjected {
				break
			}
		}
	}
	intro := "Memories from mnemo (long-term memory) that may be relevant to this prompt; they may be outdated. Ids work with mnemo's tools."
	ctxText := formatContext(res.Project, intro, []section{{items: keep}}, o.Now(), o.MaxContextBytes)
	if ctxText == "" {
		return nil
	}
	res.Injected = strings.Count(ctxText, "\n- [")
	res.Output = encodeOutput(UserPromptSubmit, ctxText)
	if ans.use != nil && res.Injected > 0 {
		ids := make([]string, 0, res.Injected)
		for _, m := range keep[:min(res.Injected, len(keep))] {
			ids = append(ids, m.ID)
		}
		ans.use(ids)
	}
	return nil
}

func (o *Options) recallWithin(ctx context.Context, req service.RecallRequest) (answer, error) {
	warmCh := make(chan answer, 1)
	localCh := make(chan answer, 1)
	localStarted := false
	startLocal := func() {
		if localStarted {
			return
		}
		localStarted = true
		lreq := req
		lreq.Mode = o.LocalMode
		if lreq.Mode != memory.ModeKeyword {
			// An in-process model may use what is left of the budget.
			// Three quarters of it, so a model that is still loading
			// leaves time to answer by keyword.
			if dl, ok := ctx.Deadline(); ok {
				lreq.ModelWait = max(0, time.Until(dl)*3/4)
			}
		}
		go func() {
			r, use, err := o.localRecall(ctx, lreq)
			localCh <- answer{r, "local", err, use}
		}()
	}
	warmPending := o.Warm != nil
	if warmPending {
		go func() {
			r, err := o.Warm(ctx, req)
			warmCh <- answer{r, "warm", err, o.warmUse}
		}()
	} else {
		startLocal()
	}
	half := time.NewTimer(o.Budget / 2)
	defer half.Stop()
	var local *answer
	var errs []error
	for {
		select {
		case a := <-warmCh:
			warmPending = false
			if a.err == nil {
				return a, nil
			}
			if errors.Is(a.err, warm.ErrNoServer) {
				o.Log.Debug("hook: no running server; recalling from the store", "err", a.err)
			} else {
				errs = append(errs, fmt.Errorf("warm recall: %w", a.err))
			}
			if local != nil {
				return *local, nil
			}
			startLocal()
		case a := <-localCh:
			if a.err != nil {
				errs = append(errs, fmt.Errorf("local recall: %w", a.err))
				if !warmPending {
					return answer{}, errors.Join(errs...)
				}
				continue
			}
			if !warmPending {
				if len(errs) > 0 {
					o.Log.Warn("hook: answered from the store after the server failed", "err", errors.Join(errs...))
				}
				return a, nil
			}
			local = &a
		case <-half.C:
			startLocal()
		case <-ctx.Done():
			if local != nil {
				o.Log.Warn("hook: budget spent waiting for the server; answered by keyword", "budget", o.Budget)
				return *local, nil
			}
			errs = append(errs, fmt.Errorf("budget of %s spent before any recall answered", o.Budget))
			return answer{}, errors.Join(errs...)
		}
	}
}

func (o *Options) localRecall(ctx context.Context, req service.RecallRequest) (service.RecallResult, func([]string), error) {
	if o.Open == nil {
		return service.RecallResult{}, nil, errors.New("no local store configured")
	}
	m, closeFn, err := o.Open(ctx, req.Project)
	if err != nil {
		return service.RecallResult{}, nil, fmt.Errorf("open store: %w", err)
	}
	// Closing records the uses (after the answer is out).
	o.afterAnswer(closeFn)
	var use func([]string)
	if ur, ok := m.(useRecorder); ok {
		use = ur.RecordUse
	}
	r, err := m.Recall(ctx, req)
	return r, use, err
}

// warmUse records uses through the server that answered, once the answer
// is out (it is a second round trip the prompt must not wait for).
func (o *Options) warmUse(ids []string) {
	if o.WarmUse == nil {
		return
	}
	o.afterAnswer(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), warmUseTimeout)
		defer cancel()
		return o.WarmUse(ctx, ids)
	})
}

// warmUseTimeout bounds recording uses through a server after the answer.
const warmUseTimeout = 500 * time.Millisecond

// sessionStart injects a digest: the project's pinned memories, always and
// first, then its newest memories and the ones most recently recalled (used)
// that are not among the newest.
func (o *Options) sessionStart(ctx context.Context, res *Result) error {
	if o.Open == nil {
		return errors.New("no local store configured")
	}
	type listed struct {
		ms, pinned []memory.Memory
		err        error
	}
	ch := make(chan listed, 1)
	go func() {
		m, closeFn, err := o.Open(ctx, res.Project)
		if err != nil {
			ch <- listed{err: fmt.Errorf("open store: %w", err)}
			return
		}
		defer closeFn()
		pinned, err := m.List(ctx, service.ListRequest{Project: res.Project, Pinned: true, Limit: digestPinned})
		if err != nil {
			ch <- listed{err: err}
			return
		}
		ms, err := m.List(ctx, service.ListRequest{Project: res.Project, Limit: digestListSize})
		ch <- listed{ms: ms, pinned: pinned, err: err}
	}()
	var l listed
	select {
	case l = <-ch:
	case <-ctx.Done():
		return fmt.Errorf("budget of %s spent listing memories", o.Budget)
	}
	if l.err != nil {
		return l.err
	}
	res.Path, res.Hits = "local", len(l.ms)
	pinned := map[string]bool{}
	for _, m := range l.pinned {
		pinned[m.ID] = true
	}
	var rest []memory.Memory
	for _, m := range l.ms {
		if !pinned[m.ID] {
			rest = append(rest, m)
		}
	}
	recent, used := digest(rest)
	intro := "Memories from mnemo (long-term memory) for this project; they may be outdated. Use mnemo's recall tool for more."
	ctxText := formatContext(res.Project, intro, []section{
		{title: "Pinned", items: l.pinned},
		{title: "Recent", items: recent},
		{title: "Most used", items: used},
	}, o.Now(), o.MaxContextBytes)
	if ctxText == "" {
		return nil
	}
	res.Injected = strings.Count(ctxText, "\n- [")
	res.Output = encodeOutput(SessionStart, ctxText)
	return nil
}

// digest splits a newest-first list into the newest few and the most
// recently accessed others (a memory counts as used once a recall returned
// it after it was written).
func digest(ms []memory.Memory) (recent, used []memory.Memory) {
	n := min(digestRecent, len(ms))
	recent = ms[:n]
	var rest []memory.Memory
	for _, m := range ms[n:] {
		if m.AccessedAt.After(m.CreatedAt.Add(time.Second)) {
			rest = append(rest, m)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].AccessedAt.After(rest[j].AccessedAt) })
	return recent, rest[:min(digestUsed, len(rest))]
}

// capture stores the notes the session asked to keep, when enabled.
func (o *Options) capture(ctx context.Context, in Input, res *Result) error {
	if !o.Capture {
		return nil
	}
	if in.TranscriptPath == "" {
		return errors.New("capture: the hook input has no transcript_path")
	}
	data, err := readTranscriptTail(in.TranscriptPath)
	if err != nil {
		return fmt.Errorf("capture: read transcript: %w", err)
	}
	notes := capturedNotes(data)
	if len(notes) == 0 {
		return nil
	}
	if o.Open == nil && o.SpoolDir == "" {
		return errors.New("no local store configured")
	}
	meta := map[string]any{"session_id": in.SessionID, "hook": res.Event.ClaudeName()}
	// Spool first: once the notes are in a fsynced file they survive a
	// store that stays locked past the budget, and a kill. Each note gets
	// its memory id now, so storing a note twice (here and by a later
	// process draining the spool) keeps one copy.
	spooled := ""
	if o.SpoolDir != "" {
		var recs []spool.Record
		now := o.Now()
		for _, note := range notes {
			// Redacted as Remember would (so a replay stores the same
			// text, and no credential reaches the spool file); a note
			// that is nothing but secrets is not spooled, as Remember
			// refuses it.
			if !o.KeepSecrets {
				out, found := redact.String(note)
				if found != nil && redact.Empty(out) {
					continue
				}
				note = out
			}
			recs = append(recs, spool.Record{Kind: spool.KindNote, Note: &memory.Memory{
				ID: memory.NewID(now), Content: note, Project: res.Project, Tags: []string{"captured"},
				Metadata: meta, Source: memory.SourceHook, Author: o.Author,
			}})
		}
		var err error
		if spooled, err = spool.Write(o.SpoolDir, recs...); err != nil {
			o.Log.Warn("capture: could not spool notes; storing them directly", "err", err)
		}
	}
	if o.Open == nil {
		res.Spooled = len(notes)
		return nil
	}
	type stored struct {
		n   int
		err error
	}
	done := make(chan stored, 1)
	go func() {
		m, closeFn, err := o.Open(ctx, res.Project)
		if err != nil {
			done <- stored{0, fmt.Errorf("open store: %w", err)}
			return
		}
		defer closeFn()
		var errs []error
		n := 0
		for _, note := range notes {
			_, err := m.Remember(ctx, service.RememberRequest{
				Content:  note,
				Tags:     []string{"captured"},
				Project:  res.Project,
				Source:   memory.SourceHook,
				Metadata: meta,
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
		if len(errs) == 0 {
			_ = spool.Remove(spooled) // every note is stored
		}
		done <- stored{n, errors.Join(errs...)}
	}()
	select {
	case st := <-done:
		res.Path, res.Captured = "local", st.n
		if st.err != nil {
			if spooled != "" {
				res.Spooled = len(notes) - st.n
				o.Log.Warn("capture: notes not stored now stay spooled for the next mnemo process", "spooled", res.Spooled, "err", st.err)
				return nil
			}
			return fmt.Errorf("capture: %w", st.err)
		}
		return nil
	case <-ctx.Done():
		if spooled != "" {
			res.Spooled = len(notes)
			o.Log.Warn("capture: the store stayed busy; notes spooled for the next mnemo process", "notes", len(notes), "budget", o.Budget, "file", spooled)
			return nil
		}
		return fmt.Errorf("capture: budget of %s spent storing %d notes", o.Budget, len(notes))
	}
}

package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/embed/hub"
	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// ModelReason is why the configured model is not available, in a few
// words for people: "cannot reach https://huggingface.co (no such host)",
// "not downloaded yet", rather than a raw dial error.
func ModelReason(cfg config.Config, err error) string {
	if err == nil {
		return "it did not load"
	}
	ref, rerr := hub.ParseRef(cfg.Model)
	if errors.Is(err, embed.ErrNotCached) && rerr == nil && !ref.Local() {
		where := hub.ModelDir(hub.CacheRoot(cfg.CacheDir), ref)
		if cfg.Offline {
			return "MNEMO_OFFLINE=1 forbids downloading it and it is not in the cache (" + where + ")"
		}
		return "it has not been downloaded yet (not in " + where + ")"
	}
	if reason := networkReason(err); reason != "" {
		hubURL := cfg.HubURL
		if hubURL == "" {
			hubURL = hub.DefaultURL
		}
		return fmt.Sprintf("cannot reach %s to download it (%s)", hubURL, reason)
	}
	return err.Error()
}

// networkReason is the short cause of a failed connection ("connection
// refused", "no such host", "timed out"), or "" for an error that is not one.
func networkReason(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return "no such host: " + dns.Name
		}
		return "DNS lookup of " + dns.Name + " failed"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		msg := op.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		return ue.Err.Error()
	}
	return ""
}

// ModelHelp is the one message a command prints when the configured model
// is not available: what is wrong and the ways out. For a model from the
// hub they are a local folder, `mnemo pull` once online, or keyword-only
// with MNEMO_OFFLINE=1; for a local folder, what is wrong with it.
func ModelHelp(cfg config.Config, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s is not available: %s", cfg.Model, ModelReason(cfg, err))
	if ref, rerr := hub.ParseRef(cfg.Model); rerr == nil && ref.Local() {
		b.WriteString("\n  set MNEMO_MODEL to a model folder (model.onnx, tokenizer.json), or MNEMO_OFFLINE=1 for keyword search only")
		return b.String()
	}
	b.WriteString("\n  ways out:")
	b.WriteString("\n    MNEMO_MODEL=/path/to/folder   use a model folder you have (model.onnx, tokenizer.json)")
	if cfg.Offline {
		// Keyword-only is already what the user chose.
		b.WriteString("\n    mnemo pull                    download it once: unset MNEMO_OFFLINE on a machine that is online")
		b.WriteString("\n  until then, MNEMO_OFFLINE=1 searches by keyword only")
		return b.String()
	}
	b.WriteString("\n    mnemo pull                    download it once, when this machine is online (or set MNEMO_HUB_URL to a mirror)")
	b.WriteString("\n    MNEMO_OFFLINE=1               search by keyword only, without a model")
	return b.String()
}

// IsUnreachable reports whether err says the model could not be fetched
// because the hub could not be reached (or offline mode forbade it), rather
// than that the model is wrong.
func IsUnreachable(err error) bool {
	return errors.Is(err, embed.ErrNotCached) || networkReason(err) != ""
}

#!/usr/bin/env python3
"""serve-rss.py: peak RSS of a real `mnemo serve` process (issue 6).

Starts BINARY serve with the model, speaks MCP over its stdin/stdout, makes
CALLS tool calls one at a time (a third `remember`, the rest `recall`, short
texts of 6-25 words), then prints the process's VmHWM (peak RSS) and VmRSS.

  bench/serve-rss.py [BINARY] [CALLS] [MODEL_DIR]

MNEMO_HOME (and MNEMO_CACHE under it) is a new temporary folder unless
MNEMO_HOME is set: a new one includes the first load's graph rewrite; run it
twice with the same MNEMO_HOME for a warm cache.
"""
import json, os, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "bin", "mnemo")
calls = int(sys.argv[2]) if len(sys.argv) > 2 else 300
model = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "..", "..", "shared", "models", "minilm-l6-synthetic")
home = os.environ.get("MNEMO_HOME") or tempfile.mkdtemp(prefix="mnemo-rss-")
env = dict(os.environ, MNEMO_HOME=home, MNEMO_CACHE=os.path.join(home, "cache"), MNEMO_MODEL=model, MNEMO_OFFLINE="1")
p = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
next_id = 0


def call(method, params, notify=False):
    global next_id
    msg = {"jsonrpc": "2.0", "method": method, "params": params}
    if not notify:
        next_id += 1
        msg["id"] = next_id
    p.stdin.write(json.dumps(msg) + "\n")
    p.stdin.flush()
    while not notify:
        line = p.stdout.readline()
        if not line:
            sys.exit("serve closed stdout")
        r = json.loads(line)
        if r.get("id") == next_id:
            return r


def status():
    out = {}
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            k, v = line.split(":", 1)
            if k in ("VmHWM", "VmRSS"):
                out[k] = round(int(v.split()[0]) / 1024, 1)
    return out


call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "serve-rss", "version": "0"}})
call("notifications/initialized", {}, notify=True)
words = ("the people in our city often walk along the river after work and talk about books music food "
         "travel family history science weather").split()
start = time.time()
for i in range(calls):
    text = " ".join(words[(i * 7 + j) % len(words)] for j in range(5 + i % 20)) + f" note {i}"
    if i % 3 == 0:
        r = call("tools/call", {"name": "remember", "arguments": {"content": text}})
    else:
        r = call("tools/call", {"name": "recall", "arguments": {"query": text}})
    if r.get("error") or r["result"].get("isError"):
        sys.exit(f"call {i} failed: {r}")
s = status()
print(f"{calls} calls in {time.time() - start:.1f} s; peak RSS {s['VmHWM']} MiB, RSS now {s['VmRSS']} MiB (MNEMO_HOME={home})")
p.stdin.close()
p.wait()

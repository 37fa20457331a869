#!/usr/bin/env bash
# End-to-end tests of the real binary with real third-party MCP clients (MCP
# Inspector CLI, the TypeScript SDK, the Claude Code CLI), all installed from
# npm at the versions pinned in package.json. `make test-e2e` runs this with
# MNEMO_BIN set; node's test runner prints the summary, and a failure exits
# non-zero.
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${MNEMO_BIN:-}" ] || [ ! -x "${MNEMO_BIN}" ]; then
  echo "e2e: MNEMO_BIN must be the path of the built mnemo binary (make test-e2e sets it)" >&2
  exit 2
fi
export MNEMO_TEST_MODELS="${MNEMO_TEST_MODELS:-$(cd ../.. && pwd)/shared/models}"
for m in bert-tiny-synthetic minilm-l6-synthetic; do
  if [ ! -f "$MNEMO_TEST_MODELS/$m/model.onnx" ]; then
    echo "e2e: test model $m missing under $MNEMO_TEST_MODELS; failing, not skipping" >&2
    exit 1
  fi
done
if [ ! -d node_modules/@modelcontextprotocol/sdk ] || [ ! -d node_modules/@modelcontextprotocol/inspector ] || [ ! -d node_modules/@anthropic-ai/claude-code ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# No network is needed or wanted: the servers run offline on local models,
# and Claude Code must not try to update itself.
export DISABLE_AUTOUPDATER=1 MNEMO_OFFLINE=1

echo "e2e: $("$MNEMO_BIN" --version 2>/dev/null | head -n1 || echo mnemo) · node $(node --version) · models $MNEMO_TEST_MODELS"
# Files run one after another: the concurrency test wants the machine.
exec node --test --test-concurrency=1 ./*.test.mjs

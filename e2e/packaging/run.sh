#!/usr/bin/env bash
# Packaging tests against a GoReleaser dist/ (make release-snapshot): the npm
# packages through a local verdaccio, and scripts/install.sh through a local
# HTTP server, both on 127.0.0.1. `make test-packaging` runs this.
set -euo pipefail
cd "$(dirname "$0")"
export MNEMO_DIST="${MNEMO_DIST:-$(cd ../.. && pwd)/dist}"
[ -f "$MNEMO_DIST/metadata.json" ] || { echo "packaging: $MNEMO_DIST has no snapshot; run make release-snapshot" >&2; exit 2; }
# ../lib.mjs (the e2e helpers) wants the binary under test: the snapshot's.
MNEMO_BIN="$(ls "$MNEMO_DIST"/mnemo_linux_amd64*/mnemo | head -n1)"
export MNEMO_BIN
export MNEMO_TEST_MODELS="${MNEMO_TEST_MODELS:-$(cd ../../.. && pwd)/shared/models}"
[ -d node_modules/verdaccio ] || npm ci --no-audit --no-fund --loglevel=error
[ -d ../node_modules/@anthropic-ai/claude-code ] || (cd .. && npm ci --no-audit --no-fund --loglevel=error)
export DISABLE_AUTOUPDATER=1 MNEMO_OFFLINE=1
exec node --test --test-concurrency=1 ./*.test.mjs

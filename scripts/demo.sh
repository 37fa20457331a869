#!/usr/bin/env bash
# make demo: mnemo's main job end to end on the embedded defaults, in a
# throwaway MNEMO_HOME. Uses MNEMO_MODEL when set (offline machines:
# ../shared/models/minilm-l6-synthetic); otherwise the default model is
# downloaded once into the user cache, with a progress bar.
set -euo pipefail
bin=${1:?usage: demo.sh MNEMO_BINARY}
here=$(cd "$(dirname "$0")/.." && pwd)

home=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-demo.XXXXXX")
trap 'rm -rf "$home"' EXIT
export MNEMO_HOME="$home"
echo "== mnemo demo (MNEMO_HOME=$home, model=${MNEMO_MODEL:-default: sentence-transformers/all-MiniLM-L6-v2})"

echo
echo "== 1. embed and compare texts in-process (pure Go, no native runtime)"
"$bin" embed \
  "A cat sat on the mat." \
  "A kitten was sleeping on the rug." \
  "The quarterly spreadsheet has several formula errors."

echo
echo "== 2. mnemo serve, driven by a real MCP client (mcp-go stdio client)"
(cd "$here" && go run ./scripts/democlient "$bin")

echo
echo "== 3. the same store from the CLI"
"$bin" recall "antibiotics" --mode keyword --all
"$bin" stats

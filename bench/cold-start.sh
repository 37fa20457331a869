#!/usr/bin/env bash
# cold-start.sh: N processes started together, each loading the model and
# embedding 10 sentences (issue 6), for mnemo and for onnxruntime-node.
# Prints the wall time of each wave.
#
#   bench/cold-start.sh [MNEMO_BIN] [MODEL_DIR] [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../bin/mnemo}
model=${2:-$here/../../shared/models/minilm-l6-synthetic}
n=${3:-16}
sentences=$(printf '%s\n' "A cat sat on the mat." "The stock market fell sharply on Tuesday." \
  "How do I bake sourdough bread at home?" "The doctor prescribed antibiotics for the infection." \
  "The children played football in the park." "Climate change is raising global sea levels." \
  "I love this movie." "Compile the program with optimizations enabled." \
  "Shares dropped steeply on Wall Street after the announcement." "Kids were kicking a ball on the grass.")
export MNEMO_OFFLINE=1 MNEMO_HOME=${MNEMO_HOME:-$(mktemp -d)}
wave() {
  local start end
  start=$(date +%s.%N)
  for _ in $(seq "$n"); do "$@" <<<"$sentences" >/dev/null & done
  wait
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mnemo            $n processes: $(wave "$bin" embed --json --model "$model") s"
echo "onnxruntime-node $n processes: $(wave node "$here/ort-bench.mjs" --threads 2 --model "$model" --embed-stdin) s"

#!/usr/bin/env bash
# Reproduce the committed perception model from nothing (npm run train):
#   1. render training data (training area, mixed conditions, one seed shard per trainDirs entry) and
#      held-out data (held-out area; unseen seeds; unseen generated maps; night and wet presets),
#   2. train (edge/model/train-config.json),
#   3. evaluate per-class IoU on each held-out set, export ONNX + metadata to edge/model/,
#   4. check the export in onnxruntime-node, time PyTorch eager, fill MODEL_CARD.md,
# and print the wall time of every stage. Env: FLEETMAP_PYTHON (default /usr/bin/python3),
# TRAIN_FRAMES (default 12000, split over the config's trainDirs), HOLDOUT_FRAMES (default 400 per set), TRAIN_MAPS (simulator --maps
# of the training sets, default karlsruhe,ring,gen:4: generated maps derive from --seed, so each
# shard gets its own), EVAL_MAPS (held-out area / seeds / conditions, default karlsruhe,ring),
# HOLDOUT_MAPS (unseen generated maps, default gen:4 with seed 505), HOLDOUT_EFFECTS (effects never rendered into the training, held-out-area
# and held-out-seed sets, default wet: the `wet` set then measures an unseen condition),
# REUSE_DATA=1 keeps datasets already generated (same sizes) instead of rendering them again;
# SYNTHETIC=1 uses edge/model/synth_dataset.py instead of the simulator (pipeline development only);
# QUIET=1: no training progress line (it is drawn on stderr only when that is a terminal).
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${FLEETMAP_PYTHON:-/usr/bin/python3}
TRAIN_FRAMES=${TRAIN_FRAMES:-12000}
HOLDOUT_FRAMES=${HOLDOUT_FRAMES:-400}
TRAIN_MAPS=${TRAIN_MAPS:-karlsruhe,ring,gen:4}
EVAL_MAPS=${EVAL_MAPS:-karlsruhe,ring}
HOLDOUT_MAPS=${HOLDOUT_MAPS:-gen:4}
HOLDOUT_EFFECTS=${HOLDOUT_EFFECTS-wet}
DATA=out/model-data
RUN=out/model-train
CONFIG=edge/model/train-config.json

if ! "$PY" -c 'import torch, onnx' 2>/dev/null; then
  echo "run-training: $PY cannot import torch/onnx: install the Debian packages python3-torch and python3-onnx" >&2
  exit 1
fi
mkdir -p "$DATA" "$RUN"
T0=$(date +%s)
stage() { echo "[pipeline] $(( $(date +%s) - T0 )) s: $*"; }

# render NAME FRAMES SEED CONDITIONS AREA MAPS: one dataset (skipped with REUSE_DATA=1 when present with that count)
render() {
  local name=$1 frames=$2 seed=$3 cond=$4 area=$5 maps=$6
  local exclude=()
  [[ "$cond" == mixed && -n "$HOLDOUT_EFFECTS" ]] && exclude=(--exclude-effects "$HOLDOUT_EFFECTS")
  if [[ "${REUSE_DATA:-0}" == 1 ]] && grep -q "\"count\": *$frames[,}]" "$DATA/$name/meta.json" 2>/dev/null; then
    echo "[pipeline] reuse $DATA/$name"; return 0
  fi
  # Never delete what fleetmap did not make: a dataset directory carries .fleetmap-out (cli/out-dir.ts).
  if [[ -d "$DATA/$name" && -n "$(ls -A "$DATA/$name")" && ! -f "$DATA/$name/.fleetmap-out" ]]; then
    echo "[pipeline] refusing to replace $DATA/$name: it is not empty and fleetmap did not create it (no .fleetmap-out); move it away" >&2
    return 1
  fi
  if [[ "${SYNTHETIC:-0}" == 1 ]]; then
    rm -rf "${DATA:?}/$name"
    "$PY" edge/model/synth_dataset.py --out "$DATA/$name" --frames "$frames" --seed "$seed" > "$DATA/$name.log" 2>&1
    touch "$DATA/$name/.fleetmap-out"; return
  fi
  npx tsx sim/camera/make-dataset.ts --out "$DATA/$name" --frames "$frames" --maps "$maps" --seed "$seed" \
    --conditions "$cond" --area "$area" "${exclude[@]}" > "$DATA/$name.log" 2>&1 || { echo "[pipeline] make-dataset $name failed:"; tail -20 "$DATA/$name.log"; return 1; }
}

# The training shards are the config's trainDirs (each under $DATA): shard k (from 0) renders with
# seed k + 1 (its own generated maps), TRAIN_FRAMES split evenly, two shards at a time.
mapfile -t SHARDS < <("$PY" -c 'import json, sys; [print(d) for d in json.load(open(sys.argv[1]))["trainDirs"]]' "$CONFIG")
for d in "${SHARDS[@]}"; do
  [[ "$(dirname "$d")" == "$DATA" ]] || { echo "[pipeline] $CONFIG: trainDirs entry $d is not under $DATA" >&2; exit 1; }
done
NSHARDS=${#SHARDS[@]}
stage "rendering $TRAIN_FRAMES training frames ($NSHARDS shards) and 5 x $HOLDOUT_FRAMES held-out frames"
for (( k = 0; k < NSHARDS; k += 2 )); do
  PIDS=()
  for (( j = k; j < k + 2 && j < NSHARDS; j++ )); do
    frames=$(( TRAIN_FRAMES / NSHARDS + (j == NSHARDS - 1 ? TRAIN_FRAMES % NSHARDS : 0) ))
    render "$(basename "${SHARDS[$j]}")" "$frames" $(( j + 1 )) mixed train "$TRAIN_MAPS" & PIDS+=($!)
  done
  for p in "${PIDS[@]}"; do wait "$p"; done
done
render holdout-area "$HOLDOUT_FRAMES" 101 mixed holdout "$EVAL_MAPS" & A=$!
render holdout-seeds "$HOLDOUT_FRAMES" 202 mixed train "$EVAL_MAPS" & B=$!
wait $A; wait $B
render night "$HOLDOUT_FRAMES" 303 night holdout "$EVAL_MAPS" & A=$!
render wet "$HOLDOUT_FRAMES" 404 wet holdout "$EVAL_MAPS" & B=$!
wait $A; wait $B
render holdout-maps "$HOLDOUT_FRAMES" 505 mixed all "$HOLDOUT_MAPS"
T_DATA=$(( $(date +%s) - T0 ))

stage "training ($CONFIG)"
"$PY" edge/model/train.py --config "$CONFIG" $([[ "${QUIET:-0}" == 1 ]] && echo --quiet)

stage "evaluating on the held-out sets"
"$PY" edge/model/evaluate.py --checkpoint "$RUN/checkpoint.pt" --out "$RUN/eval.json" \
  --data holdout_area="$DATA/holdout-area" holdout_seeds="$DATA/holdout-seeds" holdout_maps="$DATA/holdout-maps" night="$DATA/night" wet="$DATA/wet"

stage "exporting edge/model/fleetmap-seg.onnx"
"$PY" -W ignore edge/model/export.py --checkpoint "$RUN/checkpoint.pt" --out-dir edge/model --metrics "$RUN/eval.json"

stage "checking the export in onnxruntime-node; PyTorch eager speed"
npx tsx edge/model/verify-onnx.ts --model edge/model/fleetmap-seg.onnx --data "$DATA/holdout-area" --frames 200 | tee "$RUN/ort.json"
# PyTorch with 1 and with 2 threads: on 2 cores its 2-thread runs can be 2-3x slower.
OMP_NUM_THREADS=1 "$PY" edge/model/torch_bench.py --checkpoint "$RUN/checkpoint.pt" --data "$DATA/holdout-area" --frames 200 --threads 1 | tee "$RUN/torch-bench-1.json"
"$PY" edge/model/torch_bench.py --checkpoint "$RUN/checkpoint.pt" --data "$DATA/holdout-area" --frames 200 | tee "$RUN/torch-bench.json"

TOTAL=$(( $(date +%s) - T0 ))
"$PY" edge/model/card.py --metadata edge/model/fleetmap-seg.json --ort "$RUN/ort.json" --torch-bench "$RUN/torch-bench-1.json" --torch-bench "$RUN/torch-bench.json" --pipeline-seconds "$TOTAL"
stage "done: data ${T_DATA} s, total ${TOTAL} s ($(( TOTAL / 60 )) min $(( TOTAL % 60 )) s)"

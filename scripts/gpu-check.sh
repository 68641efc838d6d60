#!/usr/bin/env bash
# The whole GPU check in one command, for a lent GPU machine that has the CUDA toolkit and python3
# with PyTorch but no Node.js and no network. Prepare here first: `node scripts/gpu/bundle.mjs`
# (writes .gpu-carry/), then on the device, from the repository root, with carry [".gpu-carry"]:
#
#   OUT=/some/dir bash scripts/gpu-check.sh
#
# Steps, in order, each time-boxed (the whole stays under GPU_CHECK_SECONDS, default 450 s) and each
# run even when an earlier one failed:
#   kernels     node .gpu-carry/gpu-tests.cjs (REQUIRE_GPU=1, full scale)     -> $OUT/kernels.jsonl
#   dataset     a 10-class CIFAR-10-binary dataset of stripes and colours (scripts/gpu/make-dataset.mjs)
#   train/eval  resnet train --backend cuda (ResNet-20, 2 epochs), resnet eval  -> $OUT/train.jsonl,
#               $OUT/train-metrics.jsonl
#   resume      a run SIGKILLed after its first epoch checkpoint, then --resume -> $OUT/train.jsonl
#   throughput  resnet-bench throughput --backend cuda beside apps/bench/peers/pytorch_gpu_bench.py
#               (ResNet-20 B=128 32 px, ResNet-50 B=256 and B=64 224 px; fp32, tf32)
#                                                                              -> $OUT/throughput.jsonl
# then a summary table (printed last). Every step's status is in $OUT/steps.jsonl, everything
# printed in $OUT/gpu-check.log. Exits 1 when any step failed or was skipped for lack of time.
#
# Environment: OUT (default /tmp/gpu-check-out), NODE (a node binary instead of .gpu-carry/node.xz),
# GPU_CHECK_SECONDS, GPU_CHECK_ONLY (space-separated step names: kernels train resume throughput),
# RESNET_CUDA_EMULATE=1 (dry run on the host-emulation addon; REQUIRE_GPU is then not set).
# For dry runs without a GPU: GPU_CHECK_BACKEND (default cuda), GPU_CHECK_IMAGES (training images,
# default 2000), GPU_CHECK_CONFIGS (model:batch list, default "resnet20:128 resnet50:256 resnet50:64"),
# PYTHON (default python3), PEER_ARGS (extra peer flags, e.g. "--device cpu").
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
CARRY=$ROOT/.gpu-carry
OUT=${OUT:-/tmp/gpu-check-out}
WORK=${GPU_CHECK_WORK:-/tmp/gpu-check}
START=$(date +%s)
DEADLINE=$((START + ${GPU_CHECK_SECONDS:-450}))
ONLY=${GPU_CHECK_ONLY:-kernels train resume throughput}
BACKEND=${GPU_CHECK_BACKEND:-cuda}
PYTHON=${PYTHON:-python3}
read -r -a CONFIGS <<<"${GPU_CHECK_CONFIGS:-resnet20:128 resnet50:256 resnet50:64}"
read -r -a PEER_EXTRA <<<"${PEER_ARGS:-}"
export WORK OUT
mkdir -p "$OUT" "$WORK"
rm -rf "${WORK:?}/run" "$WORK/resume" "$WORK/bench" "$WORK/steps"
mkdir -p "$WORK/steps"
LOG=$OUT/gpu-check.log
STEPS=$OUT/steps.jsonl
: >"$LOG"
: >"$STEPS"
FAILED=0

say() { printf '%s\n' "$*" | tee -a "$LOG"; }
wanted() { [[ " $ONLY " == *" $1 "* ]]; }
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1" 2>/dev/null || printf '"?"'; }

# record NAME STATUS SECONDS NOTE
record() {
  printf '{"kind":"step","step":"%s","status":"%s","seconds":%s,"note":%s}\n' \
    "$1" "$2" "$3" "$(json_str "$4")" >>"$STEPS"
  [[ $2 == ok ]] || FAILED=$((FAILED + 1))
}

# run_step NAME MAX_SECONDS COMMAND... : runs COMMAND under a time limit (never past the deadline,
# keeping 20 s for the summary), output to the log and $WORK/steps/NAME.out, its tail to stdout.
# Sets STEP_RC; records the step unless NO_RECORD=1.
run_step() {
  local name=$1 max=$2
  shift 2
  local left=$((DEADLINE - $(date +%s) - 20))
  local limit=$((max < left ? max : left))
  local out=$WORK/steps/$name.out
  if ((limit < 10)); then
    say "=== $name: skipped, out of time"
    [[ ${NO_RECORD:-0} == 1 ]] || record "$name" skipped 0 "out of time (GPU_CHECK_SECONDS)"
    STEP_RC=124 STEP_SECONDS=0
    return 124
  fi
  say "=== $name (limit ${limit}s): $*"
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout -k 5 "$limit" "$@" >"$out" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local seconds
  seconds=$(python3 -c "print(round($t1 - $t0, 1))" 2>/dev/null || echo 0)
  cat "$out" >>"$LOG"
  tail -n "${TAIL_LINES:-6}" "$out" | cut -c1-300
  local status=ok note=""
  if ((rc == 124 || rc == 137)); then
    status=timeout note="killed after ${limit}s"
  elif ((rc != 0)); then
    status=failed note="exit $rc: $(grep -v '^{' "$out" | tail -n 1 | cut -c1-200)"
  fi
  say "=== $name: $status in ${seconds}s"
  STEP_SECONDS=$seconds
  [[ ${NO_RECORD:-0} == 1 ]] || record "$name" "$status" "$seconds" "$note"
  STEP_RC=$rc
  return "$rc"
}

# ---------------------------------------------------------------- setup: node, sharp, CUDA, machine
say "gpu-check $(date -u +%FT%TZ) in $ROOT, out $OUT, deadline $((DEADLINE - START))s"
if [[ -n ${NODE:-} ]]; then
  say "node: $NODE (from NODE)"
elif [[ -f $CARRY/node.xz ]]; then
  NODE=$WORK/node
  xz -dc "$CARRY/node.xz" >"$NODE" && chmod +x "$NODE"
else
  NODE=$(command -v node || true)
fi
if [[ -z $NODE ]] || ! "$NODE" --version >/dev/null 2>&1; then
  say "FATAL: no usable node (run node scripts/gpu/bundle.mjs before the device call, carry .gpu-carry)"
  record setup failed 0 "no node: .gpu-carry/node.xz missing or not runnable"
  exit 1
fi
for f in resnet.cjs resnet-bench.cjs gpu-tests.cjs batch-worker.js cli.js; do
  [[ -f $CARRY/$f ]] || say "WARNING: .gpu-carry/$f missing; rerun node scripts/gpu/bundle.mjs"
done
if [[ -f $CARRY/sharp.tar.xz && ! -d $CARRY/node_modules/sharp ]]; then
  mkdir -p "$CARRY/node_modules"
  if ! tar -C "$CARRY/node_modules" -xJf "$CARRY/sharp.tar.xz"; then
    say "WARNING: sharp did not unpack (only image folders need it)"
  fi
fi
PATH="$(dirname "$NODE"):$PATH"
export PATH
if [[ ${RESNET_CUDA_EMULATE:-0} == 1 ]]; then
  [[ -f $CARRY/tfjs_cuda_emu.node ]] && export RESNET_CUDA_ADDON=${RESNET_CUDA_ADDON:-$CARRY/tfjs_cuda_emu.node}
  REQUIRE=0
else
  [[ -f $CARRY/tfjs_cuda.node ]] && export RESNET_CUDA_ADDON=${RESNET_CUDA_ADDON:-$CARRY/tfjs_cuda.node}
  REQUIRE=1
fi
[[ -n ${RESNET_CUDA_ADDON:-} ]] || say "WARNING: no CUDA addon in .gpu-carry (build it, then rerun bundle.mjs)"
# The addon was built on another machine; if it does not load here (another libstdc++, say),
# build it again with this machine's nvcc from the carried sources and N-API headers.
if ((REQUIRE == 1)) && [[ -n ${RESNET_CUDA_ADDON:-} ]] &&
  ! "$NODE" -e 'require(process.env.RESNET_CUDA_ADDON).init()' >"$WORK/addon-load.out" 2>&1; then
  say "the carried addon does not load: $(tail -n 1 "$WORK/addon-load.out" | cut -c1-200); rebuilding with nvcc"
  if run_step rebuild 150 env RESNET_NODE_API_INCLUDE="$CARRY/headers" CUDA_REQUIRED=1 \
    "$NODE" packages/tfjs-backend-cuda/scripts/build-native.mjs; then
    export RESNET_CUDA_ADDON=$ROOT/packages/tfjs-backend-cuda/build/Release/tfjs_cuda.node
  fi
fi
# cuBLAS/cuDNN: the toolkit's lib64 is searched by the addon; PyTorch's wheels bring their own too.
TORCH_LIBS=$("$PYTHON" - 2>/dev/null <<'EOF'
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
# Per-library wheels (nvidia/cublas/lib) and the CUDA 13 layout (nvidia/cu13/lib) alike.
dirs = [d for r in roots for d in glob.glob(os.path.join(r, "*", "lib"))
        if glob.glob(os.path.join(d, "libcublas*.so*")) or glob.glob(os.path.join(d, "libcudnn*.so*"))
        or glob.glob(os.path.join(d, "libnvJitLink*.so*"))]
print(":".join(sorted(set(dirs))))
EOF
)
if [[ -n $TORCH_LIBS ]]; then
  export RESNET_CUDA_LIBRARY_PATH=${RESNET_CUDA_LIBRARY_PATH:+$RESNET_CUDA_LIBRARY_PATH:}$TORCH_LIBS
fi
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
say "node $("$NODE" --version), addon ${RESNET_CUDA_ADDON:-none}, RESNET_CUDA_LIBRARY_PATH=${RESNET_CUDA_LIBRARY_PATH:-}"
{
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu,clocks.max.sm \
      --format=csv 2>&1
  else
    echo "nvidia-smi: not found"
  fi
  command -v nvcc >/dev/null && nvcc --version | tail -n 2
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tail -n 1
} | tee -a "$LOG"

# ---------------------------------------------------------------- (i) kernel self-test
if wanted kernels; then
  if ((REQUIRE == 1)); then export REQUIRE_GPU=1; fi
  TAIL_LINES=3 run_step kernels 150 "$NODE" "$CARRY/gpu-tests.cjs" --scale "${GPU_TESTS_SCALE:-full}"
  grep '^{' "$WORK/steps/kernels.out" >"$OUT/kernels.jsonl" 2>/dev/null
  grep '"passed":false' "$WORK/steps/kernels.out" | head -n 20 | cut -c1-300
  unset REQUIRE_GPU
fi

# ---------------------------------------------------------------- (ii) train, eval, resume
RESNET=("$NODE" "$CARRY/resnet.cjs")
DATA=$WORK/data
TRAIN_ARGS=(--data "cifar10:$DATA" --model resnet20 --epochs 2 --batch-size 64 --log-every 10
  --workers 1 --backend "$BACKEND" --cache-dir "$WORK/cache")
: >"$OUT/train.jsonl"
if wanted train || wanted resume; then
  NO_RECORD=1 run_step dataset 30 "$NODE" scripts/gpu/make-dataset.mjs "$DATA" --train "${GPU_CHECK_IMAGES:-2000}" --test 500 ||
    record dataset failed 0 "make-dataset.mjs failed"
fi
if wanted train; then
  if run_step train 120 "${RESNET[@]}" train "${TRAIN_ARGS[@]}" --out "$WORK/run"; then
    cp "$WORK/run/logs/metrics.jsonl" "$OUT/train-metrics.jsonl" 2>/dev/null
  fi
  grep '"type":"epoch"' "$WORK/run/logs/metrics.jsonl" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(json.dumps({"kind": "train", "epoch": e["epoch"], "train_top1": e["train"]["top1"],
                      "val_top1": e.get("val", {}).get("top1"), "seconds": e["seconds"],
                      "images_per_s": e["imagesPerSecond"]}))' >>"$OUT/train.jsonl"
  # Held-out test images (test_batch.bin): a working backend is far above chance (10%).
  if TAIL_LINES=2 NO_RECORD=1 run_step eval 60 "${RESNET[@]}" eval --model "$WORK/run" --split test \
    --backend "$BACKEND" --json; then
    python3 - "$WORK/steps/eval.out" "$OUT/train.jsonl" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index("{"):])
line = {"kind": "eval", "split": r.get("split"), "count": r.get("count"), "top1": r.get("top1"),
        "top5": r.get("top5"), "loss": r.get("loss"), "backend": r.get("backend")}
open(sys.argv[2], "a").write(json.dumps(line) + "\n")
print(json.dumps(line))
sys.exit(0 if (r.get("top1") or 0) >= 0.5 else 3)
EOF
    case $? in
    0) record eval ok "$STEP_SECONDS" "" ;;
    3) record eval failed "$STEP_SECONDS" "test top-1 below 50% after 2 epochs on an easy dataset" ;;
    *) record eval failed "$STEP_SECONDS" "eval printed no readable JSON" ;;
    esac
  else
    record eval "$([[ $STEP_RC == 124 ]] && echo timeout || echo failed)" "$STEP_SECONDS" "exit $STEP_RC"
  fi
fi

# The same run SIGKILLed once its first epoch checkpoint is on disk, then resumed to the end.
resume_check() {
  local dir=$WORK/resume args
  read -r -a args <<<"$RESUME_ARGS"
  "${RESNET[@]}" train "${args[@]}" --out "$dir" >"$WORK/resume-first.out" 2>&1 &
  local pid=$! epoch=0
  while kill -0 "$pid" 2>/dev/null; do
    epoch=$(grep -o '"epoch":[0-9]*' "$dir/checkpoint/state.json" 2>/dev/null | head -n 1 | cut -d: -f2)
    [[ ${epoch:-0} -ge 1 ]] && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    echo "the first run ended (exit $?) before it could be killed; tail:"
    tail -n 5 "$WORK/resume-first.out"
    return 3
  fi
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  echo "killed (SIGKILL) the first run after its epoch-$epoch checkpoint"
  echo "{\"kind\":\"resume\",\"killed_after_epoch\":$epoch}" >>"$OUT/train.jsonl"
  "${RESNET[@]}" train --resume --out "$dir" --backend "$BACKEND" --cache-dir "$WORK/cache" || return $?
  local logged
  logged=$(grep -c '"type":"epoch"' "$dir/logs/metrics.jsonl" 2>/dev/null)
  [[ $(grep -o '"epoch":[0-9]*' "$dir/checkpoint/state.json" | head -n 1 | cut -d: -f2) == 2 ]] || {
    echo "the resumed run did not reach epoch 2"
    return 4
  }
  local same=false
  if [[ -d $WORK/run/model ]] && cmp -s <(cat "$WORK/run/model"/*.bin) <(cat "$dir/model"/*.bin); then same=true; fi
  echo "{\"kind\":\"resume\",\"completed\":true,\"epoch_lines\":${logged:-0},\"weights_equal_uninterrupted\":$same}" |
    tee -a "$OUT/train.jsonl"
}
if wanted resume; then
  # resume_check runs in a child bash (so that timeout can end it): hand it plain variables.
  export RESUME_ARGS="${TRAIN_ARGS[*]}" RESNET_CMD="${RESNET[*]}" NODE CARRY BACKEND
  export -f resume_check
  # shellcheck disable=SC2016 # expanded by the child bash
  run_step resume 150 bash -c 'read -r -a RESNET <<<"$RESNET_CMD"; resume_check'
fi

# ---------------------------------------------------------------- (iii) throughput beside PyTorch
if wanted throughput; then
  BENCH=("$NODE" "$CARRY/resnet-bench.cjs")
  if "${BENCH[@]}" throughput --help 2>/dev/null | grep -q -- '--precision'; then
    OURS_PRECISIONS=(fp32 tf32)
  else
    OURS_PRECISIONS=(default)
    say "resnet-bench throughput has no --precision: measuring its default only"
  fi
  : >"$OUT/throughput.jsonl"
  # model:batch, most telling first (time may run out); each ours beside PyTorch at once.
  for config in "${CONFIGS[@]}"; do
    model=${config%%:*} batch=${config##*:}
    for precision in fp32 tf32; do
      name=ours-$model-b$batch-$precision
      if [[ " ${OURS_PRECISIONS[*]} " == *" $precision "* ]]; then
        flags=(--precision "$precision")
      elif [[ $precision == fp32 ]]; then
        flags=()
        name=ours-$model-b$batch-default
      else
        flags=(skip)
      fi
      # Each product engine (RESNET_CUDA_MATMUL_ENGINE: auto = cuBLAS + im2col where cuBLAS loads,
      # own = our implicit-GEMM kernels); GPU_CHECK_ENGINES picks them.
      for engine in ${GPU_CHECK_ENGINES:-auto own}; do
        [[ ${flags[0]:-} == skip ]] && break
        TAIL_LINES=2 run_step "$name-$engine" 75 env RESNET_CUDA_MATMUL_ENGINE="$engine" "${BENCH[@]}" throughput \
          --models "$model" --batch "$batch" --backend "$BACKEND" --shortcut B --steps 10 --warmup 3 \
          --out "$WORK/bench" "${flags[@]}"
        grep '"peer":"resnet-ts"' "$WORK/steps/$name-$engine.out" |
          python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line); r.setdefault("precision", sys.argv[1]); r["engine"] = sys.argv[2]; print(json.dumps(r))' \
            "$precision" "$engine" >>"$OUT/throughput.jsonl"
      done
      name=pytorch-$model-b$batch-$precision
      TAIL_LINES=2 run_step "$name" 60 "$PYTHON" apps/bench/peers/pytorch_gpu_bench.py --model "$model" \
        --batch "$batch" --precision "$precision" --channels-last --mode both --steps 20 --warmup 5 \
        "${PEER_EXTRA[@]}"
      grep '"mode": "\(train\|infer\)"' "$WORK/steps/$name.out" >>"$OUT/throughput.jsonl"
    done
  done
fi

# ---------------------------------------------------------------- (iv) summary, printed last
{
  echo
  python3 scripts/gpu/summarize.py "$OUT" 2>&1 || cat "$STEPS"
  echo "gpu-check: $FAILED step(s) failed or skipped; $(($(date +%s) - START))s; files in $OUT"
} | tee -a "$LOG"
((FAILED == 0))

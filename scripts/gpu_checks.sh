#!/usr/bin/env bash
# The GPU checks of issue 30 in one run (about 10 minutes at most; each step has its own
# time limit, so one that hangs costs only its share): our DARTS search steps against the
# authors' step (fp32, then bf16 autocast with its effect on the alphas), the DARTS
# search-step benchmark with its per-phase breakdown and the training-throughput benchmark
# (every speed option, bf16 autocast included, with its loss difference) on CUDA. Everything
# it prints and every JSON goes under $OUT.
#
# The device image has torch and lightning but not omegaconf/hydra (imported by
# common.training and reproductions); carry them, pure Python, from this machine's venv:
#   echo /.gpu_site/ >> .git/info/exclude; mkdir -p .gpu_site
#   cp -r /work/main/.venv/lib/python3.11/site-packages/{omegaconf,antlr4,hydra} .gpu_site/
# then: run(command="bash scripts/gpu_checks.sh", carry=[".gpu_site"], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD:$PWD/.gpu_site" PYTHONUNBUFFERED=1
PY=${PY:-python3}
log="$OUT/gpu_checks.log"

step() {  # step <seconds> <name> <command...>: run with a limit, keep its output
  local limit=$1 name=$2
  shift 2
  echo "== $name ($(date +%T), limit ${limit}s): $*" | tee -a "$log"
  timeout "$limit" "$@" 2>&1 | grep -v -E "^(USDT|ERROR):.*Profiler|SyncActivityProfiler" \
    | tee "$OUT/$name.txt" | tee -a "$log" >/dev/null
  echo "== $name exit ${PIPESTATUS[0]}" | tee -a "$log"
}

step 30 env bash -c "nvidia-smi; $PY -c 'import torch, lightning, omegaconf;
print(torch.__version__, torch.cuda.get_device_name(0), lightning.__version__)'"
# our DARTS search steps against the authors' (scripts/darts_reference.py), both layouts
step 75 darts_vs_official $PY scripts/benchmark_darts_vs_official.py --device cuda --rounds 5 \
  --options contiguous,channels_last --json "$OUT/darts_vs_official.json"
step 60 darts_vs_official_bf16 $PY scripts/benchmark_darts_vs_official.py --device cuda \
  --rounds 5 --options contiguous,channels_last --precision bf16 \
  --json "$OUT/darts_vs_official_bf16.json"
# DARTS search steps against a plain pass, and where each step's time goes (per phase: wall
# time and operators dispatched, i.e. kernel launches; the second-order step's 7x question)
step 75 darts_search_darts $PY scripts/benchmark_darts_search.py --device cuda --space darts \
  --breakdown --json "$OUT/darts_search_darts.json"
step 50 darts_search_nb201 $PY scripts/benchmark_darts_search.py --device cuda --space nb201 \
  --breakdown --json "$OUT/darts_search_nb201.json"
# throughput: eager, channels_last and bf16 first (no compile: cheap), then compile apart
step 100 throughput $PY scripts/benchmark_throughput.py --device cuda --rounds 5 --steps 5 \
  --variants eager,channels_last,bf16 --json "$OUT/throughput.json"
step 100 throughput_compile_fixed $PY scripts/benchmark_throughput.py --device cuda \
  --nets darts,nb201 --rounds 5 --steps 5 --json "$OUT/throughput_compile_fixed.json"
step 90 throughput_compile_supernets $PY scripts/benchmark_throughput.py --device cuda \
  --nets spos-macro,spos-nb201,enas-micro,enas-macro --rounds 3 --steps 5 \
  --variants eager,compile --json "$OUT/throughput_compile_supernets.json"
echo "done $(date +%T)" | tee -a "$log"

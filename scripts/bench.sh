#!/usr/bin/env bash
# Benchmarks.  They print figures; they are not tests and never fail on speed.
#
#   scripts/bench.sh micro [--repetitions N] [--min-time S] [--filter REGEX]
#       Google Benchmark micro-benchmarks (tests/bench): URL building and
#       parsing, modified UTF-7 both ways, remote mailbox table lookups at 1k
#       and 100k entries, RLIST pattern matching.  Builds dref_micro_bench in
#       the build dir (DREF_BENCH_BUILD_DIR, default ./build) and prints one
#       line per benchmark: median, min and max CPU time per operation over N
#       repetitions (default 5).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DREF_BENCH_BUILD_DIR:-$root/build}

usage() { sed -n '2,11p' "$0"; }

micro() {
  local reps=5 min_time=0.2 filter=.
  while [[ $# -gt 0 ]]; do
    case $1 in
      --repetitions) reps=$2; shift 2 ;;
      --min-time) min_time=$2; shift 2 ;;
      --filter) filter=$2; shift 2 ;;
      *) echo "bench.sh micro: unknown option $1" >&2; exit 2 ;;
    esac
  done
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  if ! grep -q 'benchmark_DIR:PATH=/' "$build/CMakeCache.txt"; then
    echo "bench.sh: Google Benchmark not found (apt-get install libbenchmark-dev), re-run cmake" >&2
    exit 1
  fi
  local json log
  json=$(mktemp) log=$(mktemp)
  trap 'rm -f "$json" "$log"' RETURN
  if ! cmake --build "$build" --target dref_micro_bench -j"$(nproc)" >"$log" 2>&1; then
    cat "$log" >&2; exit 1
  fi
  if ! "$build/tests/bench/dref_micro_bench" --benchmark_filter="$filter" \
      --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
      --benchmark_out="$json" --benchmark_out_format=json >"$log" 2>&1; then
    cat "$log" >&2; exit 1
  fi
  python3 - "$json" "$reps" <<'PY'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
ctx = data["context"]
runs = {}
for b in data["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    # CPU time per operation: on a shared machine wall time mostly measures
    # the scheduler; the CPU time is the code's cost.
    ns = b["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    runs.setdefault(b["run_name"], []).append((ns, b.get("items_per_second"), b.get("bytes_per_second")))
def fmt(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns:.3g} ns"
load = " ".join("%.1f" % x for x in ctx.get("load_avg", []))
print(f"dref_micro_bench: {ctx['num_cpus']} CPUs @ {ctx['mhz_per_cpu']} MHz, load {load}, "
      f"{sys.argv[2]} repetitions, {ctx['date']}")
print("CPU time per operation (median, min, max over the repetitions)")
print(f"{'benchmark':<40} {'median':>10} {'min':>10} {'max':>10}  {'throughput (median)':>20}")
for name, rs in runs.items():
    t = [r[0] for r in rs]
    extra = ""
    items = [r[1] for r in rs if r[1]]
    byts = [r[2] for r in rs if r[2]]
    if items:
        extra = f"{statistics.median(items) / 1e6:.1f} M items/s"
    elif byts:
        extra = f"{statistics.median(byts) / 2**20:.0f} MiB/s"
    print(f"{name:<40} {fmt(statistics.median(t)):>10} {fmt(min(t)):>10} {fmt(max(t)):>10}  {extra:>20}")
PY
}

case ${1:-} in
  micro) shift; micro "$@" ;;
  -h|--help|"") usage ;;
  *) echo "bench.sh: unknown benchmark '$1' (micro)" >&2; usage >&2; exit 2 ;;
esac

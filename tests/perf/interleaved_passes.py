"""Interleaved passes (bench_login.py --chunk N): one round's cold passes,
then its warm passes, each cut into chunks of N logins that the variants
run in turn, so that every variant's pass is spread over the same stretch
of time as native's.

Why: on this machine the speed of the front's CPU drifts by a factor of two
within tens of seconds, even with the front pinned to its own CPU and at
nice -19 (docs/benchmarks.md "Session 9"): the other CPU's work and the
host share caches and memory with it.  Whole passes one after the other put
up to a minute between a variant's pass and native's, and the drift in
between became part of their ratio.  With chunks of a fraction of a second
taken in turn, both see the same drift.

A pass's figures are then those of its chunks together: logins/s = logins
/ the chunks' summed time, p50/p99 over the latencies of all its logins
(the load generator's --events file), per-login counters weighted by the
chunk's logins.  Chunks follow round_order() (rotated, reversed every
second turn), so that every variant has the same mean position.
"""
import os

import perf_common as pc

# measure() keys summed over the chunks (weighted by logins) per login
PER_LOGIN = ("binds", "searches", "front_cpu_ms", "front_run_ms")
# measure() keys of {process name: ms per login}, combined the same way
PER_LOGIN_BY_PROCESS = ("front_cpu_ms_by", "front_run_ms_by")


def chunks_of(rows, size):
    """rows cut into consecutive slices of at most size."""
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def read_latencies(path):
    """Latencies in ms from the load generator's --events file."""
    out = []
    with open(path, encoding="utf-8") as f:
        next(f, None)  # header
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                out.append(float(parts[2]))
    return out


def percentile(sorted_values, q):
    """The load generator's own percentile: the value at index q*(n-1)
    (rounded down) of the sorted values."""
    if not sorted_values:
        return 0.0
    return sorted_values[int(q * (len(sorted_values) - 1))]


def combine(parts):
    """One pass from its chunks (each a measure() dict with "latencies")."""
    sessions = sum(p["sessions"] for p in parts)
    n = max(sessions, 1)
    elapsed = sum(p["elapsed_s"] for p in parts)
    lat = sorted(x for p in parts for x in p["latencies"])
    out = {"sessions": sessions, "rate": sessions / elapsed if elapsed else 0.0,
           "p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99),
           "unexpected": sum(p["unexpected"] for p in parts), "elapsed_s": elapsed,
           "chunks": len(parts), "classes": {}, "examples": {},
           "new_processes": sum(p.get("new_processes", 0) for p in parts)}
    for key in PER_LOGIN:
        out[key] = sum(p[key] * p["sessions"] for p in parts) / n
    run_s = sum(p["front_run_ms"] * p["sessions"] for p in parts) / 1e3
    out["front_busy_pct"] = 100.0 * run_s / elapsed if elapsed else 0.0
    out["loadgen_cpu_pct"] = (sum(p["loadgen_cpu_pct"] * p["elapsed_s"] for p in parts)
                              / elapsed if elapsed else 0.0)
    for p in parts:
        for cls, count in p["classes"].items():
            out["classes"][cls] = out["classes"].get(cls, 0) + count
        out["examples"].update(p["examples"])
    for key in PER_LOGIN_BY_PROCESS:
        out[key] = {}
        for p in parts:
            for comm, ms in p.get(key, {}).items():
                out[key][comm] = out[key].get(comm, 0.0) + ms * p["sessions"] / n
    return out


def interleaved_round(variants, rows, chunk, work, order, measure_chunk, cacheless=(),
                      first_turn=0):
    """Runs one round: for cache in cold, warm (no warm pass for the
    variants in cacheless), the chunks of rows, each by every variant in
    order(variants, first_turn + chunk's index).  measure_chunk(variant, users_file, count,
    events_file) returns a measure() dict.  Returns {variant: {"cold":
    pass, "warm": pass}} (a combine()d pass each)."""
    slices = chunks_of(rows, chunk)
    files = [pc.write_users(os.path.join(work, "chunk-%d" % i), s) for i, s in enumerate(slices)]
    events = os.path.join(work, "chunk-events")
    out = {v: {} for v in variants}
    for cache in ("cold", "warm"):
        runs = [v for v in variants if cache == "cold" or v not in cacheless]
        parts = {v: [] for v in runs}
        for turn, (users_file, s) in enumerate(zip(files, slices)):
            for v in order(runs, first_turn + turn):
                m = measure_chunk(v, users_file, len(s), events)
                m["latencies"] = read_latencies(events)
                parts[v].append(m)
        for v in runs:
            out[v][cache] = combine(parts[v])
    return out

#!/usr/bin/env bash
# Runs one libFuzzer binary over its committed seed corpus (read-only: new
# inputs go to a scratch corpus in the build dir, crashes to the work dir).
# usage: run_fuzzer.sh <binary> <seed-corpus-dir> <dict|-> <work-dir> <runs> <seconds> [libFuzzer args...]
# runs = -1: no execution limit (the time limit only).
# Exit status: 0 = no crash, leak, timeout or broken invariant.
set -euo pipefail
binary=$1 seeds=$2 dict=$3 work=$4 runs=$5 seconds=$6
shift 6
mkdir -p "$work/corpus" "$work/artifacts"
# Input size bound per target: long enough for every limit the code has
# (URLs: 2048 octets, settings lines: 4096), short enough to keep runs fast.
case $(basename "$binary") in
  fuzz_imap_url_parse) maxlen=2200 ;;
  fuzz_settings) maxlen=4200 ;;
  fuzz_imap_url_build) maxlen=1024 ;;  # percent-encoding still reaches 2048
  fuzz_list_pattern) maxlen=256 ;;
  fuzz_entry_mapping) maxlen=384 ;;
  fuzz_mailbox_cache_file) maxlen=3000 ;;  # a few entries with long URLs
  *) maxlen=512 ;;
esac
args=(-runs="$runs" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
[[ $dict != - ]] && args+=(-dict="$dict")
# Leaks count as failures; the first UBSan report stops the run.
# A short allocation context keeps allocation-heavy targets fast; re-run a
# reproducer with the defaults for full stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1:malloc_context_size=8}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$binary" "${args[@]}" "$@" "$work/corpus" "$seeds"

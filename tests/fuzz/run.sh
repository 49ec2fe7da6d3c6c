#!/bin/sh
# Run the libFuzzer targets: every committed input of a target once (seeds and regressions, so a
# fixed crash stays fixed), then SECONDS of fuzzing from them. Fails on the first crash, leak,
# timeout or out-of-memory; the input that did it lands in BUILD/crashes/.
# usage: tests/fuzz/run.sh BUILD SECONDS TARGET...
set -u
build=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/crashes"
# -timeout: one input taking longer is a hang. -rss_limit_mb: a parser's allocation is bounded.
opts="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1"
[ -f "$here/json.dict" ] && opts="$opts -dict=$here/json.dict"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed= summary=
for t in "$@"; do
        name=${t#fuzz_} bin=$build/$t seeds=$here/corpus/$name work=$build/corpus/$name log=$build/$t.log
        [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; exit 1; }
        mkdir -p "$work"
        files=$(find "$seeds" -type f 2>/dev/null | sort)
        if [ -z "$files" ]; then
                echo "fuzz $name: no committed inputs in $seeds" >&2
                failed="$failed $name"
                continue
        fi
        # shellcheck disable=SC2086 # one argument per file
        if ! "$bin" $opts $files >"$log" 2>&1; then
                echo "fuzz $name: a committed input fails (see $log):" >&2
                grep -E "ERROR|SUMMARY|Running: |fuzz: " "$log" | tail -n 6 >&2
                failed="$failed $name"
                continue
        fi
        # shellcheck disable=SC2086
        if ! "$bin" $opts -max_total_time="$secs" -artifact_prefix="$build/crashes/$name-" "$work" "$seeds" >"$log" 2>&1; then
                echo "fuzz $name: failed (see $log):" >&2
                grep -E "ERROR|SUMMARY|Test unit written|fuzz: " "$log" | tail -n 6 >&2
                failed="$failed $name"
                continue
        fi
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        echo "fuzz $name: $(echo "$files" | wc -l) committed inputs pass, ${execs:-?} runs in ${secs}s, no crash"
done
if [ -n "$failed" ]; then
        echo "fuzz: failed:$failed" >&2
        exit 1
fi

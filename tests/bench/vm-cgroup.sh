#!/bin/bash
# make bench, VM part: the VM lane's boot-to-command overhead, and what cgroup limits add to a
# container start on a pure cgroup v2 kernel (inside the lane), as a ratio with/without limits.
# Usage: tests/bench/vm-cgroup.sh PATH-TO-CTR [RUNS]   (root; uses tests/vm/vmrun.sh)
set -euo pipefail
CTR=${1:?usage: vm-cgroup.sh PATH-TO-CTR [RUNS]}
RUNS=${2:-15}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"

if [ "${CTR_BENCH_IN_VM:-}" != 1 ]; then
        # Boot overhead: wall time of a VM that runs `true`, three times (warm cache).
        tests/vm/vmrun.sh -- true >/dev/null # warm the cache
        for i in 1 2 3; do
                t0=$(date +%s%N)
                tests/vm/vmrun.sh -- true >/dev/null
                echo $((($(date +%s%N) - t0) / 1000000))
        done | sort -n | awk '{v[NR]=$1} END {printf "vm lane: boot-to-exit of `vmrun.sh -- true`: median %d ms (of %d)\n", v[int((NR+1)/2)], NR}'
        exec env PATH=/usr/sbin:/usr/bin:/sbin:/bin tests/vm/vmrun.sh -t 900 -e CTR_BENCH_IN_VM=1 -- \
                tests/bench/vm-cgroup.sh "$CTR" "$RUNS"
fi

# Inside the VM: pure cgroup v2 with every controller. Alternate the two kinds of start so
# drift in the emulated machine hits both alike.
root=$(mktemp -d /tmp/ctr-bench-cg.XXXXXX)
trap '"$CTR" --root "$root" destroy --force plain >/dev/null 2>&1 || true
      "$CTR" --root "$root" destroy --force limited >/dev/null 2>&1 || true
      rm -rf "$root"' EXIT
"$CTR" --root "$root" create plain -t busybox -q
"$CTR" --root "$root" create limited -t busybox -q --memory 256M --pids 256 --cpus 1.5
: > "$root/plain.ms"
: > "$root/limited.ms"
for i in $(seq "$RUNS"); do
        for n in plain limited; do
                t0=$(date +%s%N)
                "$CTR" --root "$root" start "$n"
                echo $((($(date +%s%N) - t0) / 1000)) >> "$root/$n.ms"
                "$CTR" --root "$root" stop "$n" --kill
        done
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
p=$(median "$root/plain.ms")
l=$(median "$root/limited.ms")
awk -v p="$p" -v l="$l" -v n="$RUNS" 'BEGIN {
        printf "vm lane (TCG, pure cgroup v2): ctr start, median of %d: without limits %.1f ms, with memory+pids+cpus %.1f ms, ratio %.2fx\n", n, p / 1000, l / 1000, l / p }'

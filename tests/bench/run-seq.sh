#!/usr/bin/env bash
# tests/bench/run-seq.sh — `make bench`: 100 sequential `ctr run --rm -t busybox -- /bin/true`
# (the default, in a user namespace, and with --no-userns) against 100 `crun run` / `runc run` of the same busybox rootfs as an OCI bundle and 100
# `bwrap --unshare-all`, total wall time each, in one run, with ratios to ctr.
# Usage (as root): tests/bench/run-seq.sh [PATH_TO_CTR]   Env: N=100 WORK=/tmp/ctrbench-seq
set -euo pipefail
CTR=$(realpath "${1:-./ctr}")
N=${N:-100}
WORK=${WORK:-/tmp/ctrbench-seq}
[ "$(id -u)" = 0 ] || { echo "run-seq: must run as root" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/bundle/rootfs/bin" "$WORK/bundle/rootfs/proc" "$WORK/bundle/rootfs/dev" "$WORK/bundle/rootfs/sys"
cleanup() {
        "$CTR" --root "$WORK/ctr" list -q 2>/dev/null | while read -r n; do "$CTR" --root "$WORK/ctr" destroy --force "$n"; done
        rm -rf "$WORK"
}
trap cleanup EXIT
# The user namespaces of the default run take ranges from private files, not the host's /etc.
export CTR_SUBUID=${CTR_SUBUID:-$WORK/subuid} CTR_SUBGID=${CTR_SUBGID:-$WORK/subgid}
cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
ln -s busybox "$WORK/bundle/rootfs/bin/true"
ln -s busybox "$WORK/bundle/rootfs/bin/sh"
(cd "$WORK/bundle" && "$CTR" oci spec)
python3 - "$WORK/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
# The cgroup2 mount of a hybrid host makes crun 1.x refuse; it gets a private view without it.
hide() { unshare -m --propagation private sh -c 'mount -t tmpfs -o size=64k tmpfs /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "$@"; }
total() { # total LABEL CMD... : seconds for N runs
        local label=$1 s e
        shift
        "$@" >/dev/null 2>&1 || { echo "run-seq: $label: the first run failed; skipped" >&2; return 1; }
        s=$(date +%s%N)
        for _ in $(seq "$N"); do "$@" >/dev/null 2>&1; done
        e=$(date +%s%N)
        echo "$label $(( (e - s) / 1000000 ))"
}
"$CTR" --root "$WORK/ctr" run -t busybox -- /bin/true  # builds the template cache once
results=()
r=$(total "ctr-run" "$CTR" --root "$WORK/ctr" run -t busybox -- /bin/true) && results+=("$r")
r=$(total "ctr-run-no-userns" "$CTR" --root "$WORK/ctr" run --no-userns -t busybox -- /bin/true) && results+=("$r")
if command -v crun >/dev/null; then
        r=$(total "crun-run" hide crun --root "$WORK/crun" run --bundle "$WORK/bundle" seqcrun) && results+=("$r")
fi
if command -v runc >/dev/null; then
        r=$(total "runc-run" runc --root "$WORK/runc" run --bundle "$WORK/bundle" seqrunc) && results+=("$r")
fi
r=$(total "bwrap" bwrap --unshare-all --bind "$WORK/bundle/rootfs" / --proc /proc --dev /dev /bin/true) && results+=("$r")
printf '%s\n' "${results[@]}" | N=$N python3 -c '
import os, sys
n = int(os.environ["N"])
rows = [l.split() for l in sys.stdin if l.strip()]
ctr = next((int(ms) for name, ms in rows if name == "ctr-run"), None)
print("%-24s%10s%10s%12s" % ("%d sequential runs" % n, "total", "per run", "/ ctr run"))
for name, ms in rows:
    ms = int(ms)
    print("%-24s%9.2fs%8.1fms%12s" % (name, ms / 1000, ms / n, "%.2fx" % (ms / ctr) if ctr else "-"))
'

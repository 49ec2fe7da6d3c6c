#!/bin/bash
# System containers, timed: warm-cache `ctr create -t debian` (target: under 1 s), systemd boot
# to "running", and a clean stop, as medians of a few runs on the debian fixture
# (make debian-fixture). Usage: system.sh CTR [RUNS]
set -euo pipefail
CTR=${1:?usage: system.sh CTR [RUNS]}
RUNS=${2:-5}
CACHE=${CTR_CI_CACHE:-/var/cache/ctr-ci}
ls -d "$CACHE"/templates/debian-bookworm-*/current > /dev/null 2>&1 ||
        { echo "bench system: no debian fixture in $CACHE (make debian-fixture)" >&2; exit 1; }
root=$(mktemp -d /tmp/ctr-bench-sys.XXXXXX)
name=bench-sys-$$
cleanup() {
        "$CTR" --root "$root" destroy --force "$name" > /dev/null 2>&1 || true
        rm -rf "$root"
}
trap cleanup EXIT
export CTR_CACHE=$CACHE
ms() { echo $(($(date +%s%N) / 1000000)); }
create=() boot=() stop=()
for i in $(seq "$RUNS"); do
        t=$(ms)
        "$CTR" --root "$root" create "$name" -t debian -q
        create+=($(($(ms) - t)))
        t=$(ms)
        "$CTR" --root "$root" start "$name"
        for _ in $(seq 120); do
                s=$("$CTR" --root "$root" exec "$name" -- systemctl is-system-running --wait 2> /dev/null) || true
                case "$s" in running | degraded) break ;; esac
                sleep 0.25
        done
        [ "$s" = running ] || { echo "bench system: run $i: systemd is '$s'" >&2; exit 1; }
        boot+=($(($(ms) - t)))
        t=$(ms)
        "$CTR" --root "$root" stop "$name"
        stop+=($(($(ms) - t)))
        "$CTR" --root "$root" destroy "$name"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
c=$(median "${create[@]}")
echo "system containers ($RUNS runs, medians):"
echo "  warm-cache create -t debian  ${c} ms  (target < 1000 ms: $([ "$c" -lt 1000 ] && echo met || echo MISSED))"
echo "  systemd boot to running      $(median "${boot[@]}") ms"
echo "  clean stop (SIGRTMIN+3)      $(median "${stop[@]}") ms"

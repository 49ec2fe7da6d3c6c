#!/usr/bin/env bash
# tests/bench/snapshot.sh — `make bench`: snapshot and clone of a debian container, overlay
# storage against dir storage, next to `cp -a` of the same tree; median of RUNS each, one run.
# Usage (as root): tests/bench/snapshot.sh [PATH_TO_CTR]   Env: RUNS=5 CTR_CI_CACHE=/var/cache/ctr-ci
set -euo pipefail
CTR=$(realpath "${1:-./ctr}")
RUNS=${RUNS:-5}
CACHE=${CTR_CI_CACHE:-/var/cache/ctr-ci}
ROOT=$(mktemp -d /tmp/ctrbench-snap.XXXXXX)
C() { "$CTR" --root "$ROOT" -q "$@"; }
cleanup() { C list -q 2>/dev/null | while read -r n; do C destroy --force "$n"; done; rm -rf "$ROOT"; }
trap cleanup EXIT
ls -d "$CACHE"/templates/debian-*/current >/dev/null 2>&1 || { echo "snapshot bench: no debian tree in $CACHE (make debian-fixture)" >&2; exit 0; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
CTR_CACHE=$CACHE C create ov -t debian --net none
CTR_CACHE=$CACHE C create dr -t debian --storage dir --net none
row() { # row LABEL CMD-WITH-%i
        local label=$1 i v=()
        shift
        for i in $(seq "$RUNS"); do v+=("$(ms sh -c "${*//%i/$i}")"); done
        printf '%-34s %8s ms\n' "$label" "$(printf '%s\n' "${v[@]}" | median)"
}
echo "debian $(ls "$CACHE"/templates | grep debian | head -1): tree $(du -sh "$ROOT/containers/dr/rootfs" | cut -f1), median of $RUNS"
row "snapshot, overlay (upper only)" "'$CTR' --root '$ROOT' -q snapshot ov s%i"
row "snapshot, dir (full copy)" "'$CTR' --root '$ROOT' -q snapshot dr s%i"
row "clone, overlay" "'$CTR' --root '$ROOT' -q clone ov ovc%i"
row "clone, dir" "'$CTR' --root '$ROOT' -q clone dr drc%i"
row "restore --no-backup, overlay" "'$CTR' --root '$ROOT' -q restore --no-backup ov s1"
row "cp -a of the dir tree" "cp -a '$ROOT/containers/dr/rootfs' '$ROOT/cp%i'"

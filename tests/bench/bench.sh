#!/usr/bin/env bash
# tests/bench/bench.sh — `make bench`: ctr's container lifecycle against crun and bubblewrap,
# side by side in ONE hyperfine run on the same static-busybox rootfs, reported as ratios to crun.
#
# Usage (as root):  tests/bench/bench.sh [PATH_TO_CTR]      (default ./ctr)
# Env: RUNS=30 WARMUP=3 WORK=/tmp/ctrbench-work REAPER=1 HIDE_CG2=auto|1|0
#      STOP_ARGS='-t 10' (how the ctr rows stop the container; busybox init ignores SIGPWR and its
#      own halt path sleeps ~2 s, so a stop that waits for init measures busybox, not ctr)
# Output: hyperfine's table, then a table of medians and ratios; kept in $WORK/results/
#   bench-<timestamp>.{json,txt} (+ $WORK/bench.json, $WORK/bench.txt pointing at the latest).
# Rows:
#   crun run            `crun run` of /bin/true from an OCI bundle (own netns), behind the
#                       hide-cgroup2 wrapper on hybrid hosts (crun 1.x refuses to run there)
#   hide wrapper only   the wrapper alone (unshare -m + tmpfs mount + true), so crun's figure can be
#                       read with or without it (the table also shows ratios to crun minus wrapper)
#   runc run            `runc run` of the same bundle (when runc is installed; it runs on hybrid hosts)
#   bwrap               bwrap --unshare-all on the rootfs, /bin/true
#   ctr cycle           create -t busybox, start, exec /bin/true, stop, destroy (one sh -c)
#   ctr create+destroy  the storage part of the cycle
#   ctr start+exec+stop the process part of the cycle, on a container created once beforehand
#   ctr run --rm        only when `ctr run --help` exits 0 (the default: in a user namespace)
#   ctr run --rm --no-userns  the same without the user namespace (its cost is the difference)
#   dirty 64M only      64 MB of unrelated data written to the work disk (dd), the baseline of:
#   bwrap + dirty 64M, ctr run --rm + dirty 64M   each after such a write (a runtime that syncs
#                       the disk, as an overlay unmount does without volatile, pays for it here)
# The ctr rows are dropped (with one clear line saying why) when the binary is missing or a row
# fails its sanity run; the peers are benchmarked regardless.
# Everything the script creates (containers, cgroups, mounts, state dirs) is removed on exit,
# including on failure and Ctrl-C. The rootfs ($WORK/rootfs) and results are kept.
set -euo pipefail

# -------------------------------------------------------------------------------------------
# prerequisites
die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
[ "$(id -u)" = 0 ] || die "must run as root (containers, cgroups, mounts)"

need_pkgs=()
for t in hyperfine:hyperfine crun:crun bwrap:bubblewrap python3:python3 unshare:util-linux; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need_pkgs+=("${t#*:}")
done
# static busybox: the Debian busybox-static package installs it as /bin/busybox
if ! { [ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1; }; then
  need_pkgs+=(busybox-static)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing missing packages: ${need_pkgs[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"; } >&2 ||
    die "could not install ${need_pkgs[*]} (apt-get install -y hyperfine crun bubblewrap busybox-static python3)"
fi

# Host quirk: PID 1 here reaps orphans only after a delay. ctr's monitor is detached (orphaned), and
# an unreaped zombie monitor still answers kill(pid, 0), which could make `ctr stop` wait for
# nothing and charge ctr for the host. So the script runs below a small child-subreaper that
# reaps promptly; it ignores Ctrl-C itself (the script's trap does the cleanup), forwards TERM/HUP,
# and exits with the script's status once the script has ended. REAPER=0 turns this off.
if [ "${REAPER:-1}" = 1 ] && [ -z "${CTRBENCH_REAPED:-}" ]; then
  export CTRBENCH_REAPED=1
  exec python3 -c '
import ctypes, os, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
    sys.stderr.write("bench: warning: PR_SET_CHILD_SUBREAPER failed; orphans go to PID 1\n")
pid = os.fork()
if pid == 0:
    try:
        os.execv("/bin/bash", ["bash"] + sys.argv[1:])
    finally:
        os._exit(127)
signal.signal(signal.SIGINT, signal.SIG_IGN)
for s in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, lambda n, f: os.kill(pid, n))
rc = 1
while True:
    try:
        p, st = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    if p == pid:
        rc = os.waitstatus_to_exitcode(st)
        rc = rc if rc >= 0 else 128 - rc
        break
try:                      # reap what is already dead; anything still alive goes to PID 1
    while os.waitpid(-1, os.WNOHANG)[0] > 0:
        pass
except ChildProcessError:
    pass
sys.exit(rc)
' "$0" "$@"
fi

# -------------------------------------------------------------------------------------------
# settings
CTR_ARG=${1:-./ctr}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
STOP_ARGS=${STOP_ARGS:--t 10}
WORK=${WORK:-/tmp/ctrbench-work}
# paths and arguments end up inside single-quoted `sh -c` strings: keep them plain
plain() { case $1 in *[[:space:]\'\"\\\$]*) return 1 ;; esac; }
plain "$WORK" || die "WORK must not contain blanks, quotes, \\ or \$ (got '$WORK')"
plain "${STOP_ARGS// /}" || die "STOP_ARGS must not contain quotes, \\ or \$ (got '$STOP_ARGS')"
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive integer (got '$RUNS')" ;; esac
case $WARMUP in '' | *[!0-9]*) die "WARMUP must be a non-negative integer (got '$WARMUP')" ;; esac
mkdir -p "$WORK"
WORK=$(readlink -f "$WORK")
TAG=ctrbench-$$                       # names every host object of this run (containers, cgroups)
RUNDIR=$WORK/run-$$                   # per-run state: bundle, crun state, ctr --root; removed on exit
ROOTFS=$WORK/rootfs                   # shared busybox rootfs for the peers; kept between runs
BUNDLE=$RUNDIR/bundle
CRUN_STATE=$RUNDIR/crun-state
R=$RUNDIR/ctr-root                    # ctr's private --root
# ctr run's user namespaces take their ranges from private files, never the host's /etc/subuid.
export CTR_SUBUID=${CTR_SUBUID:-$RUNDIR/subuid} CTR_SUBGID=${CTR_SUBGID:-$RUNDIR/subgid}
CG_PATH=/$TAG/oci                     # crun's cgroupsPath: absolute, never under our own cgroup
RES=$WORK/results
TS=$(date +%Y%m%d-%H%M%S)
mkdir -p "$RES"

CTR=""
if [ -e "$CTR_ARG" ]; then CTR=$(readlink -f "$CTR_ARG"); fi

# crun (1.x, at least to 1.14) refuses a hybrid host whose cgroup2 tree has controllers ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2"). Run it in a throw-away private
# mount namespace where an empty tmpfs covers /sys/fs/cgroup/unified: crun then sees a v1-only
# host. The host's mounts are never changed; the namespace dies with the command.
HIDE_PREFIX='unshare -m --propagation private sh -c '\''mount -t tmpfs -o size=64k,mode=755 ctrbench-hide /sys/fs/cgroup/unified && exec "$0" "$@"'\'''
crun_needs_hide() {
  case ${HIDE_CG2:-auto} in 1) return 0 ;; 0) return 1 ;; esac
  [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
    [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
    [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]
}
if crun_needs_hide; then CRUN="$HIDE_PREFIX crun --root $CRUN_STATE"; HIDE=1
else CRUN="crun --root $CRUN_STATE"; HIDE=0; fi

# -------------------------------------------------------------------------------------------
# cleanup (EXIT trap; INT/TERM/HUP turn into exit so that it runs once, after the child is gone)
rm_cgroup_tree() {   # rmdir a cgroup and its children, deepest first; only empty ones go
  [ -d "$1" ] || return 0
  find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}
mounts_under() {     # mount points at or below $1 in our mount namespace, deepest first
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
our_cgroups() {      # cgroup dirs of this run: crun's /$TAG and whatever ctr named after $TAG
  # (ctr may nest its own under a parent: look 4 levels down, never into the host's process_api
  # tree; the patterns keep ctrbench-12 from matching another run's ctrbench-123)
  find /sys/fs/cgroup -mindepth 1 -maxdepth 4 \( -path /sys/fs/cgroup/memory/process_api -prune \) -o \
    -type d \( -name "$TAG" -o -name "*$TAG" -o -name "*$TAG-*" -o -name "*$TAG.*" \) -print -prune \
    2>/dev/null || true
}
CLEANED=0
cleanup() {
  local rc=$?
  [ $CLEANED = 1 ] && return 0
  CLEANED=1
  trap '' INT TERM HUP
  set +e
  # containers: ctr first (its monitors own processes and cgroups), then crun
  if [ -n "$CTR" ] && [ -d "$R" ]; then
    local n
    for n in $(timeout 20 "$CTR" --root "$R" list -q 2>/dev/null) "$TAG-cyc" "$TAG-cd" "$TAG-sx"; do
      [ -d "$R/containers/$n" ] || [ -d "$R/run/$n" ] || continue
      timeout 30 "$CTR" --root "$R" stop "$n" --kill >/dev/null 2>&1
      timeout 30 "$CTR" --root "$R" destroy "$n" --force >/dev/null 2>&1 ||
        say "warning: ctr destroy --force $n failed"
    done
  fi
  if [ -d "$CRUN_STATE" ]; then
    eval "$CRUN delete -f $TAG-crun" >/dev/null 2>&1
  fi
  # processes still inside this run's cgroups were started by this run: kill them by pid
  local cg p killed=0
  for cg in $(our_cgroups); do
    # shellcheck disable=SC2044 # the output is pids, not file names
    for p in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
      say "leak: pid $p still in $cg at cleanup; killing it"
      kill -9 "$p" 2>/dev/null && killed=1
    done
  done
  [ $killed = 1 ] && sleep 0.2   # let the kernel empty the cgroups before rmdir
  for cg in $(our_cgroups); do rm_cgroup_tree "$cg"; done
  # mounts ctr (or anything else of ours) left under the run dir, then the run dir itself
  local m
  for m in $(mounts_under "$RUNDIR"); do
    say "leak: mount $m left under the run dir; unmounting it"
    umount -l "$m" 2>/dev/null
  done
  if [ -d "$RUNDIR" ]; then
    if [ -z "$(mounts_under "$RUNDIR")" ]; then
      rm -rf --one-file-system "$RUNDIR"
    else
      say "warning: mounts remain under $RUNDIR; not removing it"
    fi
  fi
  # leak report: anything of this run that survived
  local left
  left=$( { our_cgroups; mounts_under "$RUNDIR"; [ -e "$RUNDIR" ] && echo "$RUNDIR"; } 2>/dev/null)
  [ -z "$left" ] || say "LEAK after cleanup: $(echo $left)"
  rm -rf "$ROOTFS.new-$$"
  exit $rc
}
HF_PID=""
on_signal() {   # on_signal STATUS: stop a running hyperfine (its whole group), then exit -> cleanup
  trap '' INT TERM HUP
  if [ -n "$HF_PID" ]; then
    kill -TERM -- "-$HF_PID" 2>/dev/null || true
    wait "$HF_PID" 2>/dev/null || true   # (set -e would exit here with its 143)
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# leftovers of earlier runs that were killed hard (kill -9): their pid is gone; empty cgroups and
# state dirs named after it are ours to remove
for d in /sys/fs/cgroup/*/ctrbench-*; do
  [ -d "$d" ] || continue
  p=${d##*/ctrbench-}
  case $p in *[!0-9]*) continue ;; esac
  kill -0 "$p" 2>/dev/null || rm_cgroup_tree "$d"
done
for d in "$WORK"/run-*; do
  [ -d "$d" ] || continue
  p=${d##*/run-}
  case $p in *[!0-9]*) continue ;; esac
  if ! kill -0 "$p" 2>/dev/null && [ -z "$(mounts_under "$d")" ]; then
    rm -rf --one-file-system "$d"
  fi
done

# -------------------------------------------------------------------------------------------
# busybox rootfs for the peers (ctr builds its own from the same host busybox via -t busybox)
build_rootfs() {   # build_rootfs DIR
  local dir=$1 p d t
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run}
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  chmod 0755 "$dir/bin/busybox"
  /bin/busybox --list-full | while read -r p; do
    [ "$p" = bin/busybox ] && continue
    d=${p%/*}
    [ "$d" = "$p" ] && d=.
    # relative links, so the tree also works bind-mounted anywhere
    case $d in
      .) t=bin/busybox ;;
      bin) t=busybox ;;
      *) t=$(echo "$d" | sed 's#[^/][^/]*#..#g')/bin/busybox ;;
    esac
    mkdir -p "$dir/$d"
    ln -sfn "$t" "$dir/$p"
  done
  [ -e "$dir/bin/true" ] || ln -sfn busybox "$dir/bin/true"
  [ -e "$dir/bin/sh" ] || ln -sfn busybox "$dir/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$dir/etc/hosts"
  echo "$TAG" >"$dir/etc/hostname"
}
# rebuilt only when missing or when the host's busybox changed; built aside and renamed into place
# so that a concurrent run never sees a half-built tree
if ! { [ -x "$ROOTFS/bin/busybox" ] && cmp -s /bin/busybox "$ROOTFS/bin/busybox" &&
       [ -L "$ROOTFS/bin/true" ] && [ -f "$ROOTFS/etc/passwd" ]; }; then
  say "building busybox rootfs in $ROOTFS"
  rm -rf "$ROOTFS.new-$$"
  build_rootfs "$ROOTFS.new-$$"
  rm -rf "$ROOTFS.old-$$"
  [ -e "$ROOTFS" ] && mv "$ROOTFS" "$ROOTFS.old-$$"
  mv "$ROOTFS.new-$$" "$ROOTFS"
  rm -rf "$ROOTFS.old-$$"
fi

# -------------------------------------------------------------------------------------------
# OCI bundle for crun: `crun spec`, adjusted (terminal off, /bin/true, absolute read-only root,
# absolute cgroupsPath); the spec's namespaces are kept, network included
mkdir -p "$BUNDLE" "$CRUN_STATE"
(cd "$BUNDLE" && crun spec)
python3 - "$BUNDLE/config.json" "$ROOTFS" "$CG_PATH" "$TAG" <<'PY'
import json, sys
path, rootfs, cg, tag = sys.argv[1:5]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": rootfs, "readonly": True}
c["hostname"] = tag
c["linux"]["cgroupsPath"] = cg
if not any(n["type"] == "network" for n in c["linux"]["namespaces"]):
    c["linux"]["namespaces"].append({"type": "network"})
json.dump(c, open(path + ".tmp", "w"), indent=2)
PY
mv -f "$BUNDLE/config.json.tmp" "$BUNDLE/config.json"

# -------------------------------------------------------------------------------------------
# rows: name + command string. hyperfine runs them all with -N (no shell in between), so a row
# that needs a shell spells out its own `sh -c` — its fork+exec of sh is part of what it measures.
NAMES=() CMDS=()
add() { NAMES+=("$1"); CMDS+=("$2"); }
sanity() {   # sanity NAME CMD: one run, 120 s at most; on failure print why, return 1
  local out rc=0
  out=$(eval "timeout 120 $2" 2>&1) || rc=$?
  [ $rc = 0 ] && return 0
  say "$1: sanity run FAILED (exit $rc): $(printf '%s\n' "$out" | tail -3 | tr '\n' ' ')"
  say "$1: command was: $2"
  return 1
}

{
  echo "host: $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  $(crun --version | head -1); $(bwrap --version); $(hyperfine --version)"
  echo "  rootfs: $ROOTFS (busybox $(/bin/busybox | head -1 | awk '{print $2}'), static)"
  if [ $HIDE = 1 ]; then echo "  crun: hybrid cgroup host with cgroup2 controllers [$(cat /sys/fs/cgroup/unified/cgroup.controllers)]; crun runs behind the hide-cgroup2 wrapper (row 'hide wrapper only' is its cost)"; fi
} >&2

# peers
sanity "crun run" "$CRUN run --bundle $BUNDLE $TAG-crun" && add "crun run" "$CRUN run --bundle $BUNDLE $TAG-crun"
if [ $HIDE = 1 ]; then
  sanity "hide wrapper only" "$HIDE_PREFIX true" && add "hide wrapper only" "$HIDE_PREFIX true"
fi
if command -v runc >/dev/null 2>&1; then
  RUNC="runc --root $RUNDIR/runc-state"
  sanity "runc run" "$RUNC run --bundle $BUNDLE $TAG-runc" && add "runc run" "$RUNC run --bundle $BUNDLE $TAG-runc"
else
  say "runc is not installed — no 'runc run' row"
fi
BWRAP="bwrap --unshare-all --bind $ROOTFS / --proc /proc --dev /dev /bin/true"
sanity bwrap "$BWRAP" && add bwrap "$BWRAP"
# With 64 MB of someone else's dirty data on the same disk: the data's own writing is a row of
# its own, so what a sandbox adds on top of it reads as the difference.
DIRTY="dd if=/dev/zero of=$RUNDIR/dirty bs=1M count=64 status=none"
add "dirty 64M only" "sh -c '$DIRTY'"
sanity "bwrap + dirty 64M" "sh -c '$DIRTY && $BWRAP'" && add "bwrap + dirty 64M" "sh -c '$DIRTY && $BWRAP'"
NPEERS=${#NAMES[@]}

# ctr
C="$CTR --root $R"
if [ -z "$CTR" ]; then
  say "ctr: $CTR_ARG not found (not built yet?) — benchmarking the peers only"
elif [ ! -x "$CTR" ]; then
  say "ctr: $CTR is not executable — benchmarking the peers only"
  CTR=""
elif ! plain "$CTR"; then
  say "ctr: path $CTR has blanks, quotes, \\ or \$ — benchmarking the peers only"
  CTR=""
elif ! out=$(timeout 10 "$CTR" --version 2>&1); then
  say "ctr: '$CTR --version' fails ($(echo "$out" | tail -1)) — benchmarking the peers only"
  CTR=""
else
  mkdir -p "$R"
  # each row stands alone: one that fails its sanity run is dropped with the reason, the others
  # are still measured (create+destroy is worth having before stop works, say)
  N=$TAG-cyc
  CYCLE="sh -c '$C create $N -t busybox -q --net none && $C start $N && $C exec $N -- /bin/true && $C stop $N $STOP_ARGS && $C destroy $N'"
  if sanity "ctr cycle" "$CYCLE"; then
    add "ctr cycle" "$CYCLE"
  else   # a half-made container must not make the next iteration fail with "already exists"
    timeout 30 "$CTR" --root "$R" destroy "$N" --force >/dev/null 2>&1 || true
  fi
  N=$TAG-cd
  CD="sh -c '$C create $N -t busybox -q --net none && $C destroy $N'"
  if sanity "ctr create+destroy" "$CD"; then
    add "ctr create+destroy" "$CD"
  else
    timeout 30 "$CTR" --root "$R" destroy "$N" --force >/dev/null 2>&1 || true
  fi
  # start+exec+stop leaves the container as it found it (created, stopped), so the container is
  # created once here, outside the timed loop, and each iteration cycles it; no --prepare needed
  # (hyperfine 1.15 has one --prepare for all commands, which would burden every row).
  N=$TAG-sx
  SX="sh -c '$C start $N && $C exec $N -- /bin/true && $C stop $N $STOP_ARGS'"
  if sanity "ctr create (for start+exec+stop)" "$C create $N -t busybox -q --net none" &&
     sanity "ctr start+exec+stop" "$SX"; then
    add "ctr start+exec+stop" "$SX"
  fi
  if "$CTR" run --help >/dev/null 2>&1; then
    RUN="$C run --rm -t busybox -- /bin/true"
    sanity "ctr run --rm" "$RUN" && add "ctr run --rm" "$RUN"
    RUN="$C run --rm --no-userns -t busybox -- /bin/true"
    sanity "ctr run --rm --no-userns" "$RUN" && add "ctr run --rm --no-userns" "$RUN"
    RUN="sh -c '$DIRTY && $C run --rm -t busybox -- /bin/true'"
    sanity "ctr run --rm + dirty 64M" "$RUN" && add "ctr run --rm + dirty 64M" "$RUN"
  else
    say "ctr: 'ctr run --help' does not exit 0 — no 'ctr run --rm' row"
  fi
  [ ${#NAMES[@]} -gt "$NPEERS" ] || say "ctr: every ctr row failed its sanity run (see above) — benchmarking the peers only"
fi
[ ${#NAMES[@]} -gt 0 ] || die "nothing to benchmark (every row failed its sanity run)"

# -------------------------------------------------------------------------------------------
# the run
JSON=$RES/bench-$TS.json
TXT=$RES/bench-$TS.txt
hf() {   # hf N: hyperfine over the first N rows
  local args=() i
  for ((i = 0; i < $1; i++)); do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
  # in the background, in a process group of its own, and waited for: a trapped signal then
  # interrupts `wait` at once (bash would defer it until a foreground hyperfine ended), and
  # on_signal stops hyperfine together with the benchmark command it is running
  set -m
  hyperfine -N -w "$WARMUP" -r "$RUNS" --export-json "$JSON" "${args[@]}" </dev/null &
  HF_PID=$!
  set +m
  local rc=0
  wait "$HF_PID" || rc=$?
  HF_PID=""
  return $rc
}
say "hyperfine: ${#NAMES[@]} rows, $RUNS runs each after $WARMUP warmup runs"
if ! hf ${#NAMES[@]}; then
  # a ctr row failing midway must not cost us the peer figures
  [ ${#NAMES[@]} -gt "$NPEERS" ] && [ "$NPEERS" -gt 0 ] || die "hyperfine failed"
  say "ctr: a ctr row failed during the hyperfine run — rerunning with the peers only"
  NAMES=("${NAMES[@]:0:$NPEERS}"); CMDS=("${CMDS[@]:0:$NPEERS}")
  hf "$NPEERS" || die "hyperfine failed on the peers too"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# -------------------------------------------------------------------------------------------
# table of medians and ratios to crun run (and to crun run minus the wrapper)
python3 - "$JSON" "$RUNS" "$WARMUP" <<'PY' | tee "$TXT"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
ms = lambda s: s * 1000.0
med = {r["command"]: r["median"] for r in res}
crun = med.get("crun run")
wrap = med.get("hide wrapper only")
crun_net = crun - wrap if crun is not None and wrap is not None and crun > wrap else None
print(f"medians of {sys.argv[2]} runs after {sys.argv[3]} warmup runs (ms)")
hdr = f"{'row':<22}{'median':>9}{'mean':>9}{'stddev':>8}{'min':>8}{'max':>8}{'/ crun run':>12}"
if crun_net:
    hdr += f"{'/ crun-wrapper':>16}"
print(hdr)
for r in res:
    line = (f"{r['command']:<22}{ms(r['median']):9.2f}{ms(r['mean']):9.2f}{ms(r['stddev'] or 0):8.2f}"
            f"{ms(r['min']):8.2f}{ms(r['max']):8.2f}")
    line += f"{r['median'] / crun:11.2f}x" if crun else f"{'n/a':>12}"
    if crun_net:
        line += f"{r['median'] / crun_net:15.2f}x"
    print(line)
print()
if crun_net:
    print(f"crun run minus wrapper = {ms(crun_net):.2f} ms (wrapper {ms(wrap):.2f} ms of {ms(crun):.2f} ms)")
for r in res:
    if r["command"] == "crun run":
        continue
    if crun:
        s = f"{r['command']} / crun run = {r['median'] / crun:.2f}x"
        if crun_net and r["command"] != "hide wrapper only":
            s += f"  (/ crun run without wrapper = {r['median'] / crun_net:.2f}x)"
        print(s)
if not any(r["command"].startswith("ctr") for r in res):
    print("no ctr rows (see the lines above the hyperfine output for why)")
PY
ln -sfn "results/bench-$TS.json" "$WORK/bench.json"
ln -sfn "results/bench-$TS.txt" "$WORK/bench.txt"
say "results: $JSON, $TXT"

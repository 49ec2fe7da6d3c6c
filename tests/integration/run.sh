#!/bin/bash
# Integration test runner: each t_*.sh of a directory (default: this one; the VM lane passes
# tests/vm) runs in its own private state root, and after each one the runner proves nothing
# leaked (mounts, cgroups, processes, run state).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tests=$(cd "${1:-$here}" && pwd)
: "${CTR:?set CTR}" "${PROBE:?set PROBE}"

if [ "$(id -u)" != 0 ]; then
        echo "skipped: integration tests need root"
        exit 0
fi

work=$(mktemp -d /tmp/ctr-it.XXXXXX)
pass=0 failed=0 skipped=0
failures=()
only=${T_ONLY:-}
# Each test's time limit; at the limit the runner shows what the test's processes were waiting
# in (ps wchan) before it kills them, so a hang is named rather than just timed out.
limit=${T_TIMEOUT:-600}
[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: T_TIMEOUT must be a positive number of seconds: $limit" >&2; exit 2; }

watch_at() { # watch_at SECS FILE: at SECS, the process table (no kernel threads) with wait channels into FILE
        local s
        sleep "$1" &
        s=$!
        trap 'kill $s 2>/dev/null; exit 0' TERM
        wait $s
        ps -eo pid,ppid,stat,wchan:32,etimes,args 2>&1 | awk '$1 != 2 && $2 != 2' | cut -c1-200 >"$2"
}

# The test network namespaces' own mounts (/run/netns/...) come and go with the runner.
mount_count() { grep -vc ' /run/netns' /proc/self/mountinfo; }
baseline_mounts=$(mount_count)

# ctr's cgroup leaf suffix for a state root: FNV-1a of the path (runtime/monitor.c), in bash
# because a python start costs seconds in the emulated VM lane.
root_hash() {
        local s=$1 h=2166136261 i c
        for ((i = 0; i < ${#s}; i++)); do
                printf -v c '%d' "'${s:i:1}"
                h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
        done
        printf '%08x\n' "$h"
}

# Each test runs in a network namespace of its own that plays the host: bridges, veths, NAT
# rules and sysctls a test causes never touch the machine's real network.
netns_new() { # netns_new NAME
        ip netns add "$1" && ip -n "$1" link set lo up
}

netns_leaks() { # netns_leaks NAME: links other than lo and bridges, and any tagged nft rule
        local ns=$1
        ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
                while read -r l; do
                        [ "$l" = lo ] && continue
                        ip -n "$ns" -d link show "$l" | grep -q 'bridge ' && continue
                        echo "link left in test netns: $l"
                done
        if command -v nft >/dev/null && ip netns exec "$ns" nft list table inet ctr >/dev/null 2>&1; then
                ip netns exec "$ns" nft list chain inet ctr ports | grep 'comment "ctr ' | sed 's/^[[:space:]]*/nft rule left: /'
        fi
}

leaks() { # leaks ROOT -> prints what leaked
        local root=$1
        if grep -q -- "$root" /proc/self/mountinfo; then
                echo "mounts under $root:"; grep -- "$root" /proc/self/mountinfo
        fi
        local m; m=$(mount_count)
        [ "$m" = "$baseline_mounts" ] || echo "host mount count changed: $baseline_mounts -> $m"
        local hash
        hash=$(root_hash "$root")
        local cg
        # cgroup2 and, on hybrid hosts, every v1 hierarchy
        for cg in /sys/fs/cgroup/ctr.slice /sys/fs/cgroup/*/ctr.slice; do
                ls -d "$cg"/*-"$hash".scope 2>/dev/null | sed 's/^/cgroup left: /'
        done
        pgrep -af -- "--root $root" | sed 's/^/process left: /'
        local rd="$root/run"
        # .memo holds what is computed once per root (filters, probe answers), not per container.
        if [ -d "$rd" ] && [ -n "$(ls -A "$rd" | grep -vx .memo)" ]; then echo "run state left: $(ls -A "$rd")"; fi
}

cleanup_root() { # best effort: kill what a failed test left, by pid, then remove
        local root=$1 pid cg
        for pid in $(pgrep -f -- "--root $root"); do kill -9 "$pid" 2>/dev/null; done
        sleep 0.2
        for cg in /sys/fs/cgroup/ctr.slice/*-"$2".scope /sys/fs/cgroup/*/ctr.slice/*-"$2".scope; do
                [ -d "$cg" ] || continue
                echo 1 > "$cg/cgroup.kill" 2>/dev/null
                sleep 0.1
                rmdir "$cg" 2>/dev/null
        done
        rmdir /sys/fs/cgroup/*/ctr.slice /sys/fs/cgroup/ctr.slice 2>/dev/null
        grep -- "$root" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r mp; do umount -l "$mp"; done
        rm -rf "$root"
}

for t in "$tests"/t_*.sh; do
        name=$(basename "$t" .sh)
        if [ -n "$only" ]; then # T_ONLY: words, each a substring of the names to run ("t_x$": that name alone)
                want=0
                for w in $only; do
                        if [[ "$w" == *'$' ]]; then [[ "$name" == "${w%'$'}" ]] && want=1
                        else [[ "$name" == *"$w"* ]] && want=1; fi
                done
                [ $want = 1 ] || continue
        fi
        root="$work/$name"
        mkdir -p "$root"
        start=$(date +%s%N)
        ns="ctrit$$-${name#t_}"
        ns=${ns:0:30}
        if ! netns_new "$ns"; then
                echo "FAIL $name: cannot create the test network namespace $ns"
                failed=$((failed + 1)) failures+=("$name")
                continue
        fi
        watch_at $((limit > 5 ? limit - 3 : limit)) "$work/$name.ps" &
        watch=$!
        # User namespaces (ctr run's default) take their ranges from private subuid/subgid
        # files and record them in a private range record: the host's /etc and /var/lib/ctr stay
        # as they are, and concurrent tests do not take each other's ranges.
        out=$(T_ROOT="$root" T_PREFIX="it$$" T_HERE="$here" T_NETNS="$ns" T_HOSTNET="/proc/$$/ns/net" CTR="$CTR" PROBE="$PROBE" \
                CTR_SUBUID="$work/$name.subuid" CTR_SUBGID="$work/$name.subgid" CTR_IDMAP_RECORD="$work/$name.idmap" \
                timeout -k 10 "$limit" nsenter --net="/run/netns/$ns" bash -c ". '$here/lib.sh'; set -e; . '$t'" 2>&1)
        rc=$?
        kill "$watch" 2>/dev/null
        wait "$watch" 2>/dev/null
        if [ $rc = 124 ] || [ $rc = 137 ]; then
                out="$out
timed out after ${limit}s; the processes then:
$(cat "$work/$name.ps" 2>/dev/null)"
        fi
        rm -f "$work/$name.ps"
        ms=$((($(date +%s%N) - start) / 1000000))
        dur=$((ms / 1000)).$(((ms % 1000) / 100))
        leaked=$(leaks "$root"; netns_leaks "$ns")
        # Sanitizer reports of every ctr process (detached monitors included) land in files.
        if [ -n "${SANITIZER_REPORTS:-}" ] && [ -n "$(ls -A "$SANITIZER_REPORTS")" ]; then
                rc=1
                out="$out
sanitizer reports: $(cat "$SANITIZER_REPORTS"/* | head -40)"
                rm -f "$SANITIZER_REPORTS"/*
        fi
        hash=$(root_hash "$root")
        if [ $rc = 0 ] && printf '%s' "$out" | grep -q '^skipped:'; then
                echo "SKIP $name: $(printf '%s' "$out" | grep '^skipped:' | head -1)"
                skipped=$((skipped + 1))
        elif [ $rc = 0 ] && [ -z "$leaked" ]; then
                echo "ok   $name (${dur}s)"
                pass=$((pass + 1))
        else
                echo "FAIL $name (exit $rc, ${dur}s)"
                lines=25
                { [ $rc = 124 ] || [ $rc = 137 ]; } && lines=70 # the process table too
                printf '%s\n' "$out" | tail -$lines | sed 's/^/    /'
                [ -n "$leaked" ] && printf '%s\n' "$leaked" | sed 's/^/    LEAK: /'
                failed=$((failed + 1))
                failures+=("$name")
        fi
        cleanup_root "$root" "$hash"
        ip netns del "$ns" 2>/dev/null
done
rmdir "$work" 2>/dev/null || rm -rf "$work"
echo "integration: $pass passed, $failed failed, $skipped skipped"
[ $failed = 0 ] || { echo "failed: ${failures[*]}"; exit 1; }

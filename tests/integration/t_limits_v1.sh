# Native containers on a hybrid host (v1 controllers, cgroup2 without them): every mounted v1
# hierarchy gives the container a cgroup of its own, init is born into it before its cgroup
# namespace, the limits bind there, exec'd processes join the same cgroups as init, info reads
# the counters, and destroy leaves nothing under any hierarchy.
if [ ! -d /sys/fs/cgroup/memory ] || [ ! -d /sys/fs/cgroup/pids ] || [ ! -d /sys/fs/cgroup/cpu ] ||
        grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null ||
        grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        echo "skipped: not a hybrid host with v1 memory, pids and cpu hierarchies"
        exit 0
fi
v1dirs() { ls -d /sys/fs/cgroup/*/ctr.slice/"$1"-*.scope 2>/dev/null | grep -v /unified/; }
n=$(cname v1)
mk "$n" --net none --memory 32M --pids 40 --cpus 0.2
ctr start "$n"
pid=$(init_pid "$n")
rel=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
assert_match "$rel" "^/ctr.slice/$n-[0-9a-f]+\.scope$" "init's memory cgroup"
# Every v1 controller hierarchy (named ones like name=systemd are not ctr's), the same cgroup.
assert_eq "$(awk -F: '$2 != "" && $2 !~ /^name=/ && $3 != "'"$rel"'" {print $2}' "/proc/$pid/cgroup")" "" \
        "v1 hierarchies where init is not in its own cgroup"
assert_eq "$(cat "/sys/fs/cgroup/memory$rel/memory.limit_in_bytes")" 33554432 "memory limit"
assert_eq "$(cat "/sys/fs/cgroup/pids$rel/pids.max")" 40 "pids limit"
assert_eq "$(cat "/sys/fs/cgroup/cpu$rel/cpu.cfs_quota_us") $(cat "/sys/fs/cgroup/cpu$rel/cpu.cfs_period_us")" "20000 100000" "cpu quota"

# An exec'd process is in the same v1 and v2 cgroups as init.
ctr exec "$n" -- sleep 30 &
ep=$!
for _ in $(seq 100); do s=$(pgrep -P "$ep" -x sleep || pgrep -f "^sleep 30$" | head -1); [ -n "$s" ] && break; sleep 0.05; done
s=$(pgrep -f "^sleep 30$" | head -1)
[ -n "$s" ] || fail "the exec'd sleep did not start"
assert_eq "$(sort "/proc/$s/cgroup")" "$(sort "/proc/$pid/cgroup")" "the exec's cgroups are init's"
kill "$s" 2>/dev/null
wait "$ep" 2>/dev/null || true

# A v1 hierarchy mounted inside shows the container's own subtree: no release_agent, no host cgroup.
out=$(ctr exec "$n" -- sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o pids none /tmp/cg && ls /tmp/cg && cat /tmp/cg/pids.max; umount /tmp/cg')
assert_no_match "$out" "release_agent" "release_agent in a v1 mount inside"
assert_no_match "$out" "ctr.slice|process_api|system.slice" "host cgroups in a v1 mount inside"
assert_match "$out" "^40$" "the mount's root is the container's own cgroup"

# The memory limit binds: a hog beyond it is OOM-killed, and info counts the kill.
st=0
ctr exec "$n" -- ctr-probe alloc:64 >/dev/null 2>&1 || st=$?
assert_eq "$st" 137 "a 64M allocation under --memory 32M"
info=$(ctr info "$n")
assert_match "$info" "Memory: .* of 32M, [1-9][0-9]* OOM kill" "info counts the OOM kill"

# The pids limit holds a bounded fork bomb (40 processes in all; the bomb tries 60 sleeps).
ctr exec "$n" -- sh -c 'i=0; while [ $i -lt 60 ]; do sleep 20 & i=$((i+1)); done; wait' >/dev/null 2>&1 &
bomb=$!
sleep 2
cur=$(cat "/sys/fs/cgroup/pids$rel/pids.current")
[ "$cur" -le 40 ] || fail "pids.current $cur above the limit"
[ "$(awk '{print $2}' "/sys/fs/cgroup/pids$rel/pids.events")" -gt 0 ] || fail "the pids limit never refused a fork"
# ...and the test ends it through the container's cgroup: everything but init.
for p in $(cat "/sys/fs/cgroup/pids$rel/cgroup.procs"); do [ "$p" != "$pid" ] && kill -9 "$p" 2>/dev/null; done
wait "$bomb" 2>/dev/null || true

# The cpu limit throttles a busy loop.
timeout 5 "$CTR" --root "$T_ROOT" exec "$n" -- sh -c 'end=$(($(date +%s) + 2)); while [ $(date +%s) -lt $end ]; do :; done' || true
thr=$(awk '$1 == "nr_throttled" {print $2}' "/sys/fs/cgroup/cpu$rel/cpu.stat")
[ "$thr" -gt 0 ] || fail "a busy loop under --cpus 0.2 was never throttled"
assert_match "$(ctr info "$n")" "throttled [1-9][0-9]* time" "info shows the throttling"

ctr stop "$n" --kill
ctr destroy "$n"
[ -z "$(v1dirs "$n")" ] || fail "v1 cgroups left after destroy: $(v1dirs "$n")"

# ctr run takes the same limits on this host instead of refusing them (the README's CI line).
assert_eq "$("$CTR" --root "$T_ROOT" run -t busybox --net none --memory 64M --pids 50 -- sh -c 'cat /proc/self/cgroup | grep -c ":/$"')" \
        "$(grep -c . /proc/self/cgroup)" "a run's process sits at the root of each of its cgroup namespace's views"

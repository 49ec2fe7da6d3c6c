# The whole life of a container: create, start, inspect from inside, stop, start again, destroy.
n=$(cname life)
mk "$n"
assert_eq "$(state_of "$n")" stopped "state after create"
ctr start "$n"
assert_eq "$(state_of "$n")" running "state after start"

# PID 1 inside is the container's init, and it is the pid `info` reports on the host.
pid=$(init_pid "$n")
assert_eq "$(ctr exec "$n" -- cat /proc/1/comm)" init "comm of pid 1"
nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")
assert_eq "$nspid" 1 "host pid $pid is pid 1 in its namespace"
assert_eq "$(ctr exec "$n" -- ctr-probe hostname)" "hostname=$n" "hostname"

# Only the container's processes are visible: init, its console shell, and the probe.
procs=$(ctr exec "$n" -- ctr-probe procs)
assert_match "$procs" '^procs=1:init,' "process list starts with init"
assert_no_match "$procs" "bash|python|sshd|make" "no host processes inside"
[ "$(ctr exec "$n" -- ctr-probe nproc | cut -d= -f2)" -le 4 ] || fail "too many processes visible: $procs"

# Host mounts are invisible: only the container's own mount points.
mps=$(ctr exec "$n" -- ctr-probe mountpoints)
assert_no_match "$mps" "/work|/tmp/ctr-it|/var/lib" "host mount points inside"
assert_match "$mps" "(^|,)/proc(,|$)" "/proc mounted"
assert_match "$mps" "(^|,)/dev/pts(,|$)" "/dev/pts mounted"
assert_match "$mps" "(^|,)/sys/fs/cgroup(,|$)" "cgroup2 mounted"

# Each namespace differs from the host's.
for ns in pidns mntns utsns ipcns netns cgroupns; do
        inside=$(ctr exec "$n" -- ctr-probe "$ns" | cut -d= -f2)
        host=$(readlink "/proc/self/ns/${ns%ns}")
        [ "$inside" != "$host" ] || fail "$ns is the host's ($host)"
done
# The container sees its cgroup as the root of the cgroup namespace.
assert_eq "$(ctr exec "$n" -- ctr-probe cgroup)" "cgroup=/" "cgroup namespace root"

# /dev holds only the standard nodes; /dev/console is the monitor's pty.
dev=$(ctr exec "$n" -- ctr-probe dev)
for node in null zero full random urandom tty console ptmx pts shm; do
        assert_match "$dev" "(=|,)$node(,|$)" "/dev/$node present"
done
assert_no_match "$dev" "(=|,)(sda|vda|mem|kmsg|loop0)(,|$)" "no host devices"
assert_match "$(ctr exec "$n" -- ctr-probe console)" "chr:136:" "/dev/console is a pty"

# Masked /proc paths and read-only /sys.
checked=0
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /sys/firmware; do
        [ -e "$p" ] || continue # not every kernel has each of them
        assert_eq "$(ctr exec "$n" -- ctr-probe "masked:$p")" "masked:$p=1" "$p masked"
        checked=$((checked + 1))
done
[ "$checked" -ge 2 ] || fail "only $checked maskable paths exist on this host"
assert_eq "$(ctr exec "$n" -- ctr-probe writable:/sys/kernel/uevent_helper)" "writable:/sys/kernel/uevent_helper=0" "sysfs read-only"
assert_eq "$(ctr exec "$n" -- ctr-probe writable:/proc/sys/kernel/hostname)" "writable:/proc/sys/kernel/hostname=0" "/proc/sys read-only"
if [ -e /proc/sysrq-trigger ]; then
        assert_eq "$(ctr exec "$n" -- ctr-probe writable:/proc/sysrq-trigger)" "writable:/proc/sysrq-trigger=0" \
                "/proc/sysrq-trigger read-only"
fi

# init holds only its console: nothing of the monitor leaked into the container.
fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ,)
assert_eq "$fds" "0,1,2," "init's open fds"

# stop is graceful (busybox init powers off on SIGUSR2) and well within its timeout.
t0=$(date +%s%N)
ctr stop "$n" -t 20
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 15000 ] || fail "graceful stop took ${ms} ms"
grep -q "Requesting system poweroff" "$T_ROOT/log/$n.log" || fail "init did not shut down gracefully: $(tail -3 "$T_ROOT/log/$n.log")"
assert_eq "$(state_of "$n")" stopped "state after stop"
[ ! -e "/proc/$pid" ] || fail "init $pid still exists"

# A second start works, restart works, stopping a stopped container is fine.
ctr start "$n"
ctr restart "$n" -t 20
assert_eq "$(state_of "$n")" running "state after restart"
ctr stop "$n" --kill
ctr stop "$n"
ctr destroy "$n"
assert_eq "$(state_of "$n")" absent "after destroy"
[ ! -e "$T_ROOT/containers/$n" ] || fail "container dir left"
[ ! -e "$T_ROOT/log/$n.log" ] || fail "console log left"

# 50 create/start/exec/stop/destroy cycles leave no mount, cgroup, process or fd behind.
mounts0=$(wc -l < /proc/self/mountinfo)
fds0=$(ls /proc/$$/fd | wc -l)
for i in $(seq 50); do
        n=$(cname "cyc$i")
        mk "$n"
        ctr start "$n"
        assert_eq "$(ctr exec "$n" -- ctr-probe hostname)" "hostname=$n" "cycle $i exec"
        # Every tenth cycle stops gracefully (busybox takes ~2 s); the rest kill at once.
        if [ $((i % 10)) = 0 ]; then ctr stop "$n" -t 20; else ctr stop "$n" --kill; fi
        ctr destroy "$n"
done
assert_eq "$(wc -l < /proc/self/mountinfo)" "$mounts0" "host mounts after 50 cycles"
assert_eq "$(ls /proc/$$/fd | wc -l)" "$fds0" "test shell fds after 50 cycles"
assert_eq "$(ls -A "$T_ROOT/containers" | grep -c .)" 0 "containers left"
cg=$(ls -d /sys/fs/cgroup/unified/ctr.slice/${T_PREFIX}-cyc* /sys/fs/cgroup/ctr.slice/${T_PREFIX}-cyc* 2>/dev/null | wc -l)
assert_eq "$cg" 0 "cgroups left"
left=$(pgrep -f -- "--root $T_ROOT" | wc -l)
assert_eq "$left" 0 "monitors left"

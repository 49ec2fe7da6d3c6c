# A limit whose cgroup controller is missing is a clear error at start, and nothing is left.
# On a host whose cgroup2 has the controller, the limit must be applied instead.
n=$(cname lim)
mk "$n" --memory 64M --pids 100
if [ -d /sys/fs/cgroup/unified ] && ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers; then
        e=$(expect_125 "memory limit without controller" ctr start "$n")
        assert_match "$e" "^ctr: start $n: cgroup: cgroup memory controller not available \(cgroup2 at /sys/fs/cgroup/unified lacks it" "message"
        assert_eq "$(state_of "$n")" stopped "stopped after refused start"
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        ctr start "$n"
        cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
        assert_eq "$(cat "$cg/memory.max")" 67108864 "memory.max"
        assert_eq "$(cat "$cg/pids.max")" 100 "pids.max"
        ctr stop "$n" --kill
else
        echo "skipped: no cgroup2 at all"
fi
ctr destroy "$n"

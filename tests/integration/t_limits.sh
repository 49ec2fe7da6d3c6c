# A limit no cgroup hierarchy can take is a clear error at start, and nothing is left. Where
# cgroup2 has the controller the limit goes there; on a hybrid host, to the v1 hierarchy that
# has it (t_limits_v1 proves those bind).
n=$(cname lim)
mk "$n" --memory 64M --pids 100
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        ctr start "$n"
        cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
        assert_eq "$(cat "$cg/memory.max")" 67108864 "memory.max"
        assert_eq "$(cat "$cg/pids.max")" 100 "pids.max"
        ctr stop "$n" --kill
elif [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; then
        ctr start "$n"
        rel=$(ctr info "$n" --format json | json_field 'd.get("cgroup_v1") or ""')
        [ -n "$rel" ] || rel=$(awk -F: '$2 == "pids" {print $3}' "/proc/$(init_pid "$n")/cgroup")
        assert_eq "$(cat "/sys/fs/cgroup/memory/$rel/memory.limit_in_bytes")" 67108864 "v1 memory.limit_in_bytes"
        assert_eq "$(cat "/sys/fs/cgroup/pids/$rel/pids.max")" 100 "v1 pids.max"
        ctr stop "$n" --kill
else
        echo "skipped: neither cgroup2 nor v1 has a memory controller here"
fi
ctr destroy "$n"

# io.max has no v1 counterpart: without cgroup2's io controller it is refused, and nothing is left.
if [ -d /sys/fs/cgroup/unified ] && ! grep -qw io /sys/fs/cgroup/unified/cgroup.controllers; then
        n=$(cname limio)
        mk "$n" --io "$(lsblk -dno MAJ:MIN 2>/dev/null | head -1 | tr -d " "):rbps=1M"
        e=$(expect_125 "io limit without controller" ctr start "$n")
        assert_match "$e" "^ctr: start $n: cgroup: cgroup io controller not available \(cgroup2 at /sys/fs/cgroup/unified lacks it" "message"
        assert_eq "$(state_of "$n")" stopped "stopped after refused start"
        ls -d /sys/fs/cgroup/*/ctr.slice/"$n"-* 2>/dev/null && fail "a refused start left cgroups"
        ctr destroy "$n"
fi

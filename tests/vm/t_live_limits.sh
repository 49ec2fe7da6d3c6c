# VM lane: ctr config set on a running container changes its live cgroup, and clearing a limit
# puts the kernel's default back.
need_v2_controller memory
n=$(cname live)
mk "$n"
ctr start "$n"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
# Without limits, the controllers the host offers are on: no limit, but the counters are there.
assert_eq "$(cat "$cg/memory.max")" max "no limit at first"
cur=$(ctr info "$n" --format json | json_field 'd["stats"]["memory"]["current"]')
[ "$cur" -gt 0 ] || fail "memory.current of a container without limits is $cur"
assert_match "$(ctr info "$n" --format json | json_field 'd["stats"]["pids"]["current"]')" "^[1-9]" "pids counted"
out=$(ctr config "$n" set limits.memory 48M)
assert_match "$out" "applied to the running container" "live message"
assert_eq "$(cat "$cg/memory.max")" 50331648 "memory.max after set"
assert_eq "$(ctr config "$n" get limits.memory)" 48M "saved"
rc=0
ctr exec "$n" -- ctr-probe alloc:96 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 137 "the new limit bites at once"
ctr config "$n" set limits.pids 40
assert_eq "$(cat "$cg/pids.max")" 40 "pids.max after set"
ctr config "$n" set limits.cpus 0.5
assert_eq "$(cat "$cg/cpu.max")" "50000 100000" "cpu.max after set"
ctr config "$n" set limits.cpuset 0
assert_eq "$(cat "$cg/cpuset.cpus")" 0 "cpuset.cpus after set"
assert_eq "$(ctr exec "$n" -- grep Cpus_allowed_list /proc/self/status | tr -d '\t ')" "Cpus_allowed_list:0" "the CPUs a process inside may use"
if [ -e "$cg/memory.swap.max" ]; then
        ctr config "$n" set limits.memory_swap 16M
        assert_eq "$(cat "$cg/memory.swap.max")" 16777216 "memory.swap.max after set"
        ctr config "$n" set limits.memory_swap null
        assert_eq "$(cat "$cg/memory.swap.max")" max "memory.swap.max cleared"
fi
ctr config "$n" set limits.memory null
ctr config "$n" set limits.pids null
ctr config "$n" set limits.cpus null
ctr config "$n" set limits.cpuset null
assert_eq "$(cat "$cg/memory.max") $(cat "$cg/pids.max") $(cat "$cg/cpu.max")" "max max max 100000" "cleared"
assert_eq "$(cat "$cg/cpuset.cpus")" "$(cat "$(dirname "$cg")/cpuset.cpus.effective")" "cpuset cleared: the parent's CPUs"
ctr stop "$n" --kill

# Set while stopped, applied at the next start.
ctr config "$n" set limits.cpuset 1
ctr start "$n"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/cpuset.cpus")" 1 "cpuset.cpus applied at start"
ctr stop "$n" --kill
ctr destroy "$n"

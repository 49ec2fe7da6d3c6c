# The container's cgroup is the root of its own writable cgroup2 mount: a manager inside can
# create child cgroups and move processes into them, and teardown removes what it created.
n=$(cname deleg)
mk "$n"
ctr start "$n"
assert_eq "$(ctr exec "$n" -- ctr-probe cgroup)" "cgroup=/" "the container's cgroup is its root"
out=$(ctr exec "$n" -- sh -c 'mkdir -p /sys/fs/cgroup/app/deeper && echo $$ > /sys/fs/cgroup/app/cgroup.procs && ctr-probe cgroup')
assert_eq "$out" "cgroup=/app" "a process moved into a child cgroup"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
[ -d "$cg/app/deeper" ] || fail "the child cgroups are not under the container's cgroup on the host"
# A long-running process left in a child cgroup does not stop teardown.
ctr exec "$n" -- sh -c 'sleep 1000 > /dev/null 2>&1 & echo $! > /sys/fs/cgroup/app/deeper/cgroup.procs'
t0=$(date +%s%N)
ctr stop "$n" --kill
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] || fail "stop took ${ms} ms with child cgroups"
[ ! -d "$cg" ] || fail "the container's cgroup survived the stop: $(find "$cg" -type d)"
ctr destroy "$n"

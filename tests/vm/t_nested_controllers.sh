# VM lane: the controllers are offered inside the container's cgroup namespace, so a manager
# inside (systemd, another runtime) can use them: once every process has left the root for a
# leaf (the no-internal-process rule), it enables memory for its children and limits one.
need_v2_controller memory
n=$(cname nested)
mk "$n"
ctr start "$n"
assert_match "$(ctr exec "$n" -- cat /sys/fs/cgroup/cgroup.controllers)" "memory" "controllers offered inside"
out=$(ctr exec "$n" -- sh -c '
        cd /sys/fs/cgroup && mkdir init.scope app || exit 1
        for p in $(cat cgroup.procs); do echo $p > init.scope/cgroup.procs 2>/dev/null; done
        echo +memory > cgroup.subtree_control && echo 16M > app/memory.max && cat app/memory.max' 2>&1) ||
        fail "managing controllers inside: $out (root still holds: $(cat "$(ctr info "$n" --format json |
                json_field 'd["cgroup"]')/cgroup.procs" | tr '\n' ' '))"
assert_eq "$out" 16777216 "a limit set by a manager inside"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/app/memory.max")" 16777216 "seen from the host"
ctr stop "$n" --kill
[ ! -d "$cg" ] || fail "the container's cgroup survived the stop"
ctr destroy "$n"

# VM lane: --memory 32M OOM-kills a hog inside while the container, its init and a neighbour
# are untouched; ctr info reports the kill.
need_v2_controller memory
n=$(cname mem)
other=$(cname neighbour)
mk "$n" --memory 32M
mk "$other"
ctr start "$n"
ctr start "$other"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/memory.max")" 33554432 "memory.max"
rc=0
ctr exec "$n" -- ctr-probe alloc:96 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 137 "the hog was killed (SIGKILL)"
oom=$(ctr info "$n" --format json | json_field 'd["stats"]["memory"]["oom_kill"]')
[ "$oom" -ge 1 ] || fail "memory.events oom_kill is $oom"
assert_match "$(ctr info "$n")" "Memory: .* of 32M, [1-9][0-9]* OOM kill" "info reports the OOM kill"
assert_eq "$(state_of "$n")" running "the container survives its hog"
assert_eq "$(ctr exec "$n" -- ctr-probe alloc:8)" "alloc:8=done" "small allocations still work"
assert_eq "$(ctr exec "$other" -- ctr-probe alloc:96)" "alloc:96=done" "the neighbour has no limit"
ctr stop "$n" --kill
ctr stop "$other" --kill
ctr destroy "$n"
ctr destroy "$other"

# list and info tell the truth, as a table and as JSON.
a=$(cname lista)
b=$(cname listb)
mk "$a"
mk "$b" --net host
ctr start "$a"
out=$(ctr list)
assert_match "$(printf '%s' "$out" | head -1)" "^NAME +STATE +PID +ADDRESS +TEMPLATE +MODE$" "table header"
assert_match "$out" "$a +running +[0-9]+ +10\.57\.[0-9]+\.[0-9]+ +busybox +container" "running row with its address"
assert_match "$out" "$b +stopped +- +host +busybox +container" "stopped row"
assert_eq "$(ctr list -q | tr '\n' ' ')" "$a $b " "list -q"
js=$(ctr list --format json)
assert_eq "$(printf '%s' "$js" | json_field 'len(d)')" 2 "json length"
assert_eq "$(printf '%s' "$js" | json_field '[c["state"] for c in d if c["name"]=="'"$a"'"][0]')" running "json state"
assert_eq "$(printf '%s' "$js" | json_field '[c["mode"] for c in d if c["name"]=="'"$a"'"][0]')" container "json mode"
assert_eq "$(printf '%s' "$js" | json_field '"vcpus" in d[0] or "vm_memory" in d[0]')" False "no VM shape for a container"
info=$(ctr info "$a" --format json)
pid=$(printf '%s' "$info" | json_field 'd["pid"]')
[ -d "/proc/$pid" ] || fail "info pid $pid does not exist"
assert_match "$(printf '%s' "$info" | json_field 'd["cgroup"]')" "/ctr.slice/$a-[0-9a-f]{8}\.scope$" "cgroup path"
grep -qx "$pid" "$(printf '%s' "$info" | json_field 'd["cgroup"]')/cgroup.procs" || fail "init not in its cgroup"
assert_match "$(ctr info "$a")" "State: +running" "info table"
# The cgroup's counters: CPU time is counted even without controllers.
ctr exec "$a" -- sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'
usage=$(ctr info "$a" --format json | json_field 'd["stats"]["cpu"]["usage_usec"]')
[ "$usage" -gt 0 ] || fail "cpu usage_usec is $usage"
assert_match "$(ctr info "$a")" "CPU time: +[0-9.]+ s" "info shows CPU time"
ctr stop "$a" --kill
assert_eq "$(ctr info "$a" --format json | json_field 'd["pid"]')" None "no pid when stopped"
ctr destroy "$a"
ctr destroy "$b"

# VM lane: --pids 64 contains a fork bomb; the container stays manageable and stop works.
need_v2_controller pids
n=$(cname pids)
mk "$n" --pids 64
ctr start "$n"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/pids.max")" 64 "pids.max"
ctr exec "$n" -- sh -c 'b() { b & b & }; b' >/dev/null 2>&1 &
bomb=$!
for _ in $(seq 100); do grep -q '^max [1-9]' "$cg/pids.events" && break; sleep 0.2; done
grep -q '^max [1-9]' "$cg/pids.events" || fail "pids.max never refused a fork: $(cat "$cg/pids.events")"
cur=$(ctr info "$n" --format json | json_field 'd["stats"]["pids"]["current"]')
[ "$cur" -le 64 ] || fail "pids.current $cur above the limit"
assert_match "$(ctr info "$n")" "Processes: +[0-9]+ of 64" "info shows the process count"
t0=$(date +%s)
ctr stop "$n" -t 5
[ $(($(date +%s) - t0)) -lt 60 ] || fail "stop of a fork-bombed container took too long"
assert_eq "$(state_of "$n")" stopped "stopped"
wait $bomb 2>/dev/null || true
ctr destroy "$n"

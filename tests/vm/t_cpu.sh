# VM lane: --cpus 0.2 throttles a busy loop: cpu.stat nr_throttled grows and the usage stays near
# a fifth of one core.
need_v2_controller cpu
n=$(cname cpu)
mk "$n" --cpus 0.2
ctr start "$n"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/cpu.max")" "20000 100000" "cpu.max"
u0=$(awk '$1 == "usage_usec" {print $2}' "$cg/cpu.stat")
t0=$(date +%s%N)
ctr exec "$n" -- sh -c 'end=$(($(date +%s) + 4)); while [ $(date +%s) -lt $end ]; do :; done'
t1=$(date +%s%N)
u1=$(awk '$1 == "usage_usec" {print $2}' "$cg/cpu.stat")
thr=$(ctr info "$n" --format json | json_field 'd["stats"]["cpu"]["nr_throttled"]')
[ "$thr" -gt 0 ] || fail "nr_throttled is $thr"
# Share of one core over the run, in percent: 20 +- 20% of the limit is 16..24; allow for the
# exec's own start-up under emulation with a wider band, but far below an unthrottled 100.
pct=$(( (u1 - u0) * 100 * 1000 / (t1 - t0) ))
[ "$pct" -ge 10 ] && [ "$pct" -le 30 ] || fail "busy loop used ${pct}% of a core under --cpus 0.2"
ctr stop "$n" --kill
ctr destroy "$n"

# freeze stops every process in place (a counter does not advance), unfreeze resumes it; a frozen
# container refuses exec, shows as frozen, and still stops gracefully.
n=$(cname frz)
mk "$n"
ctr start "$n"
ctr exec "$n" -- sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done' </dev/null >/dev/null 2>&1 &
counter=$!
# The counter file is rewritten (truncated, then written) 20 times a second: a read that lands
# in between sees it empty, so read again.
cnt() {
        local v i
        for i in 1 2 3 4 5 6 7 8 9 10; do
                v=$(cat "$T_ROOT/containers/$n/rootfs/tmp/count" 2>/dev/null)
                [ -n "$v" ] && break
                sleep 0.01
        done
        echo "${v:-0}"
}
for _ in $(seq 50); do [ "$(cnt)" -gt 3 ] && break; sleep 0.1; done
ctr freeze "$n"
assert_eq "$(state_of "$n")" frozen "state after freeze"
a=$(cnt); sleep 1; b=$(cnt)
assert_eq "$b" "$a" "counter while frozen"
e=$(expect_125 "exec while frozen" ctr exec "$n" -- true)
assert_match "$e" "frozen" "exec refusal names the state"
ctr freeze "$n" # idempotent
ctr unfreeze "$n"
assert_eq "$(state_of "$n")" running "state after unfreeze"
sleep 0.5
[ "$(cnt)" -gt "$b" ] || fail "counter did not resume after unfreeze ($b -> $(cnt))"
ctr unfreeze "$n" # idempotent

# Stopping a frozen container thaws it so init can shut down gracefully.
ctr freeze "$n"
ctr stop "$n" -t 20
grep -q "Requesting system poweroff" "$T_ROOT/log/$n.log" || fail "frozen container was not stopped gracefully"
assert_eq "$(state_of "$n")" stopped "stopped"
wait $counter 2>/dev/null || true
e=$(expect_125 "freeze a stopped container" ctr freeze "$n")
assert_match "$e" "not running" "freeze refusal"
ctr destroy "$n"

# ctr config NAME get|set KEY [VALUE]: one key at a time, validated, saved atomically; on this
# hybrid host a live limit change is refused (no controller) and changes nothing.
n=$(cname conf)
mk "$n"
assert_eq "$(ctr config "$n" get limits.memory)" null "unset limit"
ctr config "$n" set limits.memory 64M
assert_eq "$(ctr config "$n" get limits.memory)" 64M "set limit"
ctr config "$n" set limits.memory null
assert_eq "$(ctr config "$n" get limits.memory)" null "cleared limit"
ctr config "$n" set stop.timeout 7
assert_eq "$(ctr config "$n" get stop.timeout)" 7 "stop.timeout"
assert_eq "$(ctr info "$n" --format json | json_field 'd["hostname"]')" "$n" "hostname before"
ctr config "$n" set hostname renamed
assert_eq "$(ctr config "$n" get hostname)" renamed "hostname"
fp=$(root_fingerprint)
e=$(expect_125 "bad size" ctr config "$n" set limits.memory 12Q)
assert_match "$e" "limits.memory.*12Q" "bad size message"
e=$(expect_125 "bad hostname" ctr config "$n" set hostname "no spaces")
assert_match "$e" "hostname" "bad hostname message"
e=$(expect_125 "unknown key" ctr config "$n" set bogus 1)
assert_match "$e" "unknown key 'bogus'" "unknown key message"
e=$(expect_125 "cpus 0" ctr config "$n" set limits.cpus 0)
assert_match "$e" "limits.cpus" "cpus 0 message"
assert_eq "$(root_fingerprint)" "$fp" "nothing changed by refused sets"

ctr start "$n"
assert_eq "$(ctr exec "$n" -- hostname)" renamed "the new hostname applies at start"
if [ -d /sys/fs/cgroup/unified ] && ! grep -qw pids /sys/fs/cgroup/unified/cgroup.controllers; then
        fp=$(root_fingerprint)
        e=$(expect_125 "live limit without controller" ctr config "$n" set limits.pids 50)
        assert_match "$e" "cgroup pids controller not available" "live refusal names the controller"
        assert_eq "$(ctr config "$n" get limits.pids)" null "config unchanged after a refused live change"
        assert_eq "$(root_fingerprint)" "$fp" "state root unchanged"
fi
ctr stop "$n" --kill
ctr destroy "$n"

# SIGKILL of the monitor or of init: state stays truthful, nothing leaks, start works again.
n=$(cname crash)
mk "$n"
ctr start "$n"
mon=$(monitor_pid "$n")
init=$(init_pid "$n")
kill -9 "$mon"
# init dies with its monitor (parent-death signal), the pid namespace with it.
for _ in $(seq 50); do [ -e "/proc/$init" ] && [ "$(awk '{print $3}' "/proc/$init/stat" 2>/dev/null)" != Z ] || break; sleep 0.1; done
assert_eq "$(state_of "$n")" stopped "state after SIGKILL of the monitor"
ctr start "$n"
assert_eq "$(state_of "$n")" running "start after a monitor crash"
assert_eq "$(ctr exec "$n" -- hostname)" "$n" "exec after restart"

init=$(init_pid "$n")
kill -9 "$init"
wait_state "$n" stopped
ctr start "$n"
assert_eq "$(state_of "$n")" running "start after init was killed"

# A killed monitor leaves a stale state and cgroup: destroy repairs them too.
kill -9 "$(monitor_pid "$n")"
sleep 0.2
ctr destroy "$n"
assert_eq "$(state_of "$n")" absent "destroy after a monitor crash"

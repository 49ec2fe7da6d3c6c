# stop falls back to SIGKILL of the whole cgroup when init ignores the stop signal.
n=$(cname stubborn)
mk "$n" --init /sbin/stubborn
cat > "$T_ROOT/containers/$n/rootfs/sbin/stubborn" <<'INIT'
#!/bin/sh
# A shell as pid 1 has no handler for SIGUSR2, so the kernel drops it: this init never stops.
sleep 1000 &
while :; do sleep 1; done
INIT
chmod 0755 "$T_ROOT/containers/$n/rootfs/sbin/stubborn"
ctr start "$n"
ctr exec "$n" -- sh -c 'sleep 1000 &' 
t0=$(date +%s%N)
ctr stop "$n" -t 1
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 900 ] || fail "stop returned after ${ms} ms, before its timeout"
[ "$ms" -lt 6000 ] || fail "SIGKILL fallback took ${ms} ms"
assert_eq "$(state_of "$n")" stopped "stopped after SIGKILL fallback"
grep -q "SIGKILL after 1 s" "$T_ROOT/log/$n.monitor.log" || fail "monitor log lacks the stop policy"
grep -q "killing the container" "$T_ROOT/log/$n.monitor.log" || fail "monitor log lacks the kill"

# --kill does not wait at all.
ctr start "$n"
t0=$(date +%s%N)
ctr stop "$n" --kill
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2000 ] || fail "stop --kill took ${ms} ms"
ctr destroy "$n"

# How the monitor reads the end of an init: a reboot(2) inside (init killed by SIGHUP) starts a
# new init with everything the first one had, the notify socket included; an init that merely
# exits with status 129 (128 + SIGHUP, which a shell's `exit 129` is) has stopped, not rebooted.
n=$(cname reboot)
mk "$n" --net none
rootfs="$T_ROOT/containers/$n/rootfs"
rm -f "$rootfs/sbin/init"
cat > "$rootfs/sbin/init" <<'SH'
#!/bin/sh
n=$(cat /boot-count 2>/dev/null || echo 0)
echo $((n + 1)) > /boot-count
if [ -S /run/host/notify/notify ]; then echo yes >> /notify-seen; else echo no >> /notify-seen; fi
[ "$n" = 0 ] && reboot -f
exec sleep 1000
SH
chmod 0755 "$rootfs/sbin/init"
ctr start "$n"
for _ in $(seq 100); do [ "$(cat "$rootfs/boot-count" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
assert_eq "$(cat "$rootfs/boot-count" 2>/dev/null)" 2 "boots after a reboot(2) inside"
wait_state "$n" running
grep -q "init asked for a reboot" "$T_ROOT/log/$n.monitor.log" || fail "the monitor did not see the reboot"
assert_eq "$(tr '\n' ' ' < "$rootfs/notify-seen")" "yes yes " "the notify socket on both boots"
ctr stop "$n" -t 2
ctr destroy "$n"

n=$(cname exit129)
mk "$n" --net none
rootfs="$T_ROOT/containers/$n/rootfs"
rm -f "$rootfs/sbin/init"
printf '#!/bin/sh\necho x >> /boots\nexit 129\n' > "$rootfs/sbin/init"
chmod 0755 "$rootfs/sbin/init"
ctr start "$n" || true
wait_state "$n" stopped
sleep 0.5
assert_eq "$(wc -l < "$rootfs/boots")" 1 "an init that exits 129 runs once"
if grep -q "reboot" "$T_ROOT/log/$n.monitor.log"; then fail "exit 129 taken for a reboot: $(cat "$T_ROOT/log/$n.monitor.log")"; fi
grep -q "init exited with status 129" "$T_ROOT/log/$n.monitor.log" || fail "the monitor log lacks the exit status"
ctr destroy "$n"

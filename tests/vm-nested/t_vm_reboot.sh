# Nested lane: a --vm container that reboots itself. Its kernel is the ELF vmlinux the lane's cache
# unpacked (the uncompressed path; bzImage is what t_vm_container boots). The rcS written into the
# disk image counts boots in a file on that disk and reboots on the first one: `reboot -f` ends in
# the i8042 reset line (reboot=k), the VMM exits as an init asking to restart (128+SIGHUP), and
# the monitor boots the same disk again without anyone calling ctr start. The second boot sees
# the counter the first one wrote (the disk persists, the memory does not), the container stays
# running throughout, and a stop after that still powers the guest off cleanly. The guest's clock
# comes from the VMM's CMOS clock: it tells the host's time, not 1970.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
k=$(ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$k" ] || { echo "skipped: no cached Debian kernel"; exit 0; }
elf=${k%/vmlinuz-*}/vmlinux-${k##*/vmlinuz-}
[ -s "$elf" ] || { echo "skipped: no unpacked vmlinux in the lane's cache"; exit 0; }
n=${T_PREFIX}vmrb
tmp=$(mktemp -d)
cleanup() { ctr destroy --force "$n" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

ctr create "$n" -t busybox --vm --net none --kernel "$elf" --vm-memory 256M >/dev/null || fail "create --vm --kernel vmlinux"
assert_eq "$(ctr config "$n" get vm.kernel)" "$elf" "vm.kernel recorded"
disk=$T_ROOT/containers/$n/disk.img
cat >"$tmp/rcS" <<'RCS'
#!/bin/sh
mount -o remount,rw / 2>/dev/null
c=$(cat /boots 2>/dev/null || echo 0)
c=$((c + 1))
echo "$c" >/boots
sync
echo "VM-BOOT-COUNT=$c"
echo "VM-DATE=$(date +%s)"
[ "$c" = 1 ] && exec reboot -f
echo "$(hostname): busybox init up"
RCS
vm_disk_put_rcs "$disk" "$tmp/rcS"
[ "$(debugfs -R "cat /etc/init.d/rcS" "$disk" 2>/dev/null | grep -c VM-BOOT-COUNT)" = 1 ] || fail "rcS not in the image"

log=$T_ROOT/log/$n.log
mlog=$T_ROOT/log/$n.monitor.log
ctr start "$n" || fail "start"
for _ in $(seq 360); do
        grep -q "busybox init up" "$log" 2>/dev/null && break
        sleep 0.5
done
c=$(tr -d '\r' <"$log" 2>/dev/null)
assert_match "$c" "VM-BOOT-COUNT=1" "first boot; console: $(tail -c 1500 <<<"$c")"
assert_match "$c" "VM-BOOT-COUNT=2" "the monitor booted it again; console: $(tail -c 1500 <<<"$c"); monitor: $(tail -5 "$mlog")"
assert_match "$c" "busybox init up" "the second boot came up"
gdate=$(grep -o 'VM-DATE=[0-9]*' <<<"$c" | tail -1 | cut -d= -f2)
now=$(date +%s)
[ -n "$gdate" ] && [ $((now - gdate)) -lt 300 ] && [ $((gdate - now)) -lt 60 ] ||
        fail "the guest's clock is not the host's: guest ${gdate:-none}, host $now"
assert_match "$(cat "$mlog")" "init asked for a reboot" "the VMM's exit was read as a reboot"
assert_match "$(cat "$mlog")" "rebooted: init pid" "respawned"
assert_match "$(ctr info "$n" --format json)" '"state": *"running"' "running across the reboot"
out=$(ctr stop "$n" -t 90 2>&1) || fail "stop: $out; monitor: $(tail -5 "$mlog")"
assert_no_match "$(cat "$mlog")" "killing the container" "the guest powered off on its own"
assert_eq "$(debugfs -R "cat /boots" "$disk" 2>/dev/null)" 2 "the disk kept the second boot's count"
ctr destroy "$n" || fail "destroy"

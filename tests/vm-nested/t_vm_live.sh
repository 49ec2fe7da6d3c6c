# Nested lane: live snapshots of a --vm container. The rcS written into the disk image starts a
# loop that counts in a tmpfs (memory only: nothing on the disk remembers it). `ctr snapshot
# --live` pauses the VM at count N and saves memory, vCPU, irqchip, clock and device state and a
# copy of the disk; the guest counts on, is stopped, and `ctr restore --live` resumes it from the
# snapshot: the count continues from N (not from 0, and below what it reached before the stop),
# and ctr exec reaches the resumed guest's agent. A damaged or foreign state file is refused in
# one line with exit 125 and the container left as it was. Two vCPUs: both parked and resumed.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
n=${T_PREFIX}vmlive
plain=${T_PREFIX}vmlive-plain
tmp=$(mktemp -d /var/tmp/ctr-vmlive.XXXXXX)
cleanup() {
        ctr destroy --force "$n" >/dev/null 2>&1 || true
        ctr destroy --force "$plain" >/dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT

ctr create "$n" -t busybox --vm --net none --vm-memory 256M --vcpus 2 --hostname vmlive-guest >/dev/null || fail "create --vm"
disk=$T_ROOT/containers/$n/disk.img
snaps=$T_ROOT/containers/$n/snapshots
cat >"$tmp/rcS" <<'RCS'
#!/bin/sh
mkdir -p /run/count
mount -t tmpfs tmpfs /run/count
( i=0; while :; do i=$((i + 1)); echo "$i" >/run/count/n; sleep 0.2; done ) </dev/null >/dev/null 2>&1 &
echo "$(hostname): busybox init up"
RCS
vm_disk_put_rcs "$disk" "$tmp/rcS"

log=$T_ROOT/log/$n.log
mlog=$T_ROOT/log/$n.monitor.log
count() { ctr exec "$n" -- cat /run/count/n 2>&1; }

# Refused before anything happens: not a VM, not running, not live.
ctr create "$plain" -t busybox --net none >/dev/null || fail "create a plain container"
rc=0; out=$(ctr snapshot --live "$plain" s 2>&1) || rc=$?
assert_eq "$rc" 125 "--live of a container that is not a VM"
assert_match "$out" "not a --vm container" "the reason"
rc=0; out=$(ctr snapshot --live "$n" s 2>&1) || rc=$?
assert_eq "$rc" 125 "--live of a stopped VM"
assert_match "$out" "stopped" "the reason"
[ -e "$snaps/s" ] && fail "a refused snapshot left a directory"

ctr start "$n" || fail "start"
for _ in $(seq 360); do
        grep -q "busybox init up" "$log" 2>/dev/null && break
        sleep 0.5
done
grep -q "busybox init up" "$log" || fail "the guest did not come up; console: $(tail -c 1500 "$log")"
for _ in $(seq 100); do
        c=$(count)
        [ "${c:-0}" -ge 5 ] 2>/dev/null && break
        sleep 0.3
done
[ "${c:-0}" -ge 5 ] 2>/dev/null || fail "the guest's counter does not run: '$c'"

# The snapshot, taken while the guest counts.
lo=$(count)
t0=$(date +%s%N)
out=$(ctr snapshot --live "$n" s1 2>&1) || fail "snapshot --live: $out; monitor: $(tail -5 "$mlog")"
echo "snapshot --live took $((($(date +%s%N) - t0) / 1000000)) ms: $out"
hi=$(count)
assert_match "$out" "live" "the snapshot says what it is"
for f in vmstate memory disk.img config.json snapshot.json; do
        [ -s "$snaps/s1/$f" ] || fail "the snapshot has no $f"
done
assert_eq "$(stat -c %s "$snaps/s1/memory")" $((256 << 20)) "the memory file holds all of RAM"
assert_match "$(ctr snapshot list "$n")" "s1 .*vm-live" "listed as a live snapshot"
assert_match "$(ctr snapshot list "$n" --format json)" '"kind": *"vm-live"' "kind in JSON"
[ "$hi" -ge "$lo" ] || fail "the guest stopped counting across the snapshot: $lo then $hi"
rc=0; out=$(ctr restore --live "$n" s1 2>&1) || rc=$?
assert_eq "$rc" 125 "restore --live of a running VM"
assert_match "$out" "stop it first" "the reason"

# The guest counts on well past the snapshot, then stops.
for _ in $(seq 100); do
        c=$(count)
        [ "${c:-0}" -ge $((hi + 15)) ] 2>/dev/null && break
        sleep 0.3
done
before=$(count)
[ "$before" -ge $((hi + 15)) ] || fail "the guest did not count on after the snapshot: $hi then $before"
ctr stop "$n" -t 60 >/dev/null || fail "stop"

# A damaged state file, another version, a truncated memory file: one line, 125, nothing changed.
sum=$(md5sum <"$disk")
cfg=$(md5sum <"$T_ROOT/containers/$n/config.json")
# "cpus" (another vCPU count, the checksum made right again) passes the file's checks and fails in
# the VMM, once the disk and settings were put in place: the failed start puts them back.
recount() {
        python3 - "$1" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
d[32:36] = struct.pack("<I", 3)  # ncpus
d[40:48] = bytes(8)              # the checksum, counted as zero
h = 0xcbf29ce484222325
for b in d:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
d[40:48] = struct.pack("<Q", h)
open(sys.argv[1], "wb").write(d)
PY
}
for bad in trunc version memory corrupt cpus; do
        cp -a "$snaps/s1" "$snaps/bad-$bad"
        case $bad in
        trunc) truncate -s 100 "$snaps/bad-$bad/vmstate" ;;
        version) printf '\x09' | dd of="$snaps/bad-$bad/vmstate" bs=1 seek=8 conv=notrunc 2>/dev/null ;;
        memory) truncate -s 4096 "$snaps/bad-$bad/memory" ;;
        corrupt) printf '\x5a' | dd of="$snaps/bad-$bad/vmstate" bs=1 seek=300 conv=notrunc 2>/dev/null ;;
        cpus) recount "$snaps/bad-$bad/vmstate" ;;
        esac
        rc=0; out=$(ctr restore --live "$n" "bad-$bad" 2>&1) || rc=$?
        assert_eq "$rc" 125 "restore --live of a damaged snapshot ($bad)"
        assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "one line ($bad): $out"
        case $bad in
        trunc) assert_match "$out" "truncated" "the reason ($bad)" ;;
        version) assert_match "$out" "version 9" "the reason ($bad)" ;;
        memory) assert_match "$out" "memory file" "the reason ($bad)" ;;
        corrupt) assert_match "$out" "checksum" "the reason ($bad)" ;;
        cpus) assert_match "$out" "vCPU 2: .*no section" "the reason ($bad)" ;;
        esac
        ctr snapshot delete "$n" "bad-$bad" || fail "delete bad-$bad"
done
assert_eq "$(md5sum <"$disk")" "$sum" "the disk is untouched by the refused restores"
assert_eq "$(md5sum <"$T_ROOT/containers/$n/config.json")" "$cfg" "the config too"
assert_no_match "$(ctr snapshot list "$n" -q)" "pre-restore" "no backup left by a refused restore"
ls "$T_ROOT/containers/$n" | grep -q 'disk.img.' && fail "a refused restore left a disk behind: $(ls "$T_ROOT/containers/$n")"
assert_match "$(ctr info "$n" --format json)" '"state": *"stopped"' "still stopped"
rc=0; out=$(ctr restore "$n" s1 2>&1) || rc=$?
assert_eq "$rc" 125 "a live snapshot restored without --live"
assert_match "$out" "restore it with --live" "the reason"
rc=0; out=$(ctr clone "$n" "${n}c" --snapshot s1 2>&1) || rc=$?
assert_eq "$rc" 125 "a clone of a live snapshot"
assert_match "$out" "live VM snapshot" "the reason"

# The resume: the count goes on from the snapshot's.
t0=$(date +%s%N)
out=$(ctr restore --live "$n" s1 2>&1) || fail "restore --live: $out; monitor: $(tail -5 "$mlog")"
echo "restore --live took $((($(date +%s%N) - t0) / 1000000)) ms: $out"
assert_match "$out" "resumed from s1" "restore says so"
assert_match "$(ctr info "$n" --format json)" '"state": *"running"' "running again"
assert_match "$(cat "$mlog")" "resumed from the live snapshot" "the monitor resumed, not booted"
after=$(count)
[ "$after" -ge "$lo" ] 2>/dev/null || fail "the count did not continue from the snapshot's ($lo-$hi): '$after'; monitor: $(tail -5 "$mlog")"
[ "$after" -lt "$before" ] || fail "the count is not the snapshot's: $after, it had reached $before before the stop"
sleep 2
later=$(count)
[ "$later" -gt "$after" ] || fail "the resumed guest does not count on: $after then $later"
echo "counted $lo-$hi at the snapshot, $before at the stop, $after after the resume, $later 2 s on"
assert_eq "$(ctr exec "$n" -- hostname)" "vmlive-guest" "exec reaches the resumed guest's agent"
rc=0; ctr exec "$n" -- sh -c 'exit 3' || rc=$?
assert_eq "$rc" 3 "exit status through the resumed agent"
assert_eq "$(printf 'xyz' | ctr exec "$n" -- cat)" "xyz" "stdin through the resumed agent"
assert_match "$(ctr snapshot list "$n" -q)" "pre-restore" "the state before the restore was kept"

# A second live snapshot of the resumed VM, and the stop still powers it off.
ctr snapshot --live "$n" s2 >/dev/null || fail "a live snapshot of the resumed VM"
out=$(ctr stop "$n" -t 60 2>&1) || fail "stop the resumed VM: $out"
ctr snapshot delete "$n" s1 || fail "delete s1"
assert_no_match "$(ctr snapshot list "$n" -q)" "^s1$" "s1 is gone"
[ -e "$snaps/s1" ] && fail "s1's directory is still there"
ctr destroy "$n" || fail "destroy"

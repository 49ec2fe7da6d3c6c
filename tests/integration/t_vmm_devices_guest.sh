# The VMM's power-off detection and its virtio-blk and virtio-console devices, driven by guest
# programs of our own (tests/vmguest/: freestanding, no kernel): poweroff halts with interrupts
# off and the VM ends as "halt"; blkio reads the sector-0 pattern written here, writes sector 1
# (read back here after the VM ended) and flushes; console sends a line the host side of
# vm-smoke --agent-log keeps and reads the "PING" it answers with. Guests end with code 1 through
# the debug-exit port, else with the number of the step that failed.
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
for b in poweroff blkio console; do
        [ -n "${VM_GUESTS:-}" ] && [ -s "$VM_GUESTS/$b.bin" ] || { echo "skipped: guest programs not built"; exit 0; }
done
[ -c /dev/kvm ] || { echo "skipped: no /dev/kvm"; exit 0; }
g=$VM_GUESTS
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
smoke() { # smoke ARGS... -> the guest's COM1 output in $d/out, the end line in $end
        "$VM_SMOKE" "$@" >"$d/out" 2>"$d/err" || fail "vm-smoke $*: $(cat "$d/err")"
        end=$(cat "$d/err")
}

smoke "$g/poweroff.bin"
assert_eq "$(cat "$d/out")" "poweroff: halting with interrupts off" "poweroff: COM1"
assert_eq "$end" "end=halt code=0" "poweroff: every vCPU in hlt with interrupts off ends the VM"
smoke --vcpus 2 "$g/poweroff.bin"
assert_eq "$end" "end=halt code=0" "poweroff: with an AP that never ran"

# 1 MiB image: sector 0 holds the pattern, the rest zeros; sector 1 gets the guest's string.
truncate -s 1M "$d/disk.img"
printf 'ctr blkio sector 0' | dd of="$d/disk.img" conv=notrunc status=none
smoke --disk "$d/disk.img" "$g/blkio.bin"
assert_eq "$end" "end=debug-exit code=1" "blkio: the guest's read, write and flush; console: $(cat "$d/out")"
assert_eq "$(cat "$d/out")" "blkio: virtio-blk found
blkio: read ctr blkio sector 0
blkio: wrote sector 1
blkio: flushed" "blkio: the steps"
{ printf 'ctr blkio from guest'; head -c $((512 - 20)) /dev/zero; } >"$d/want1"
dd if="$d/disk.img" of="$d/got1" bs=512 skip=1 count=1 status=none
cmp -s "$d/want1" "$d/got1" || fail "blkio: sector 1 is not the guest's: $(od -c "$d/got1" | head -3)"
{ printf 'ctr blkio sector 0'; head -c $((512 - 18)) /dev/zero; } >"$d/want0"
dd if="$d/disk.img" of="$d/got0" bs=512 count=1 status=none
cmp -s "$d/want0" "$d/got0" || fail "blkio: sector 0 changed"
assert_eq "$(stat -c %s "$d/disk.img")" "1048576" "blkio: the image keeps its size"
# The rest of the image stays zero.
dd if="$d/disk.img" of="$d/rest" bs=512 skip=2 status=none
cmp -s "$d/rest" <(head -c $((1048576 - 1024)) /dev/zero) || fail "blkio: sectors past 1 changed"
# A disk without the pattern: the guest stops at its step 8 and writes nothing.
truncate -s 1M "$d/blank.img"
smoke --disk "$d/blank.img" "$g/blkio.bin"
assert_eq "$end" "end=debug-exit code=8" "blkio: a sector 0 without the pattern is noticed"
assert_match "$(cat "$d/out")" "blkio: sector 0 does not hold the host's pattern" "blkio: the failing step told"
cmp -s "$d/blank.img" <(head -c 1048576 /dev/zero) || fail "blkio: the guest wrote after a failed check"

smoke --agent-log "$d/agent.log" "$g/console.bin"
assert_eq "$end" "end=debug-exit code=1" "console: the guest sent and got PING; console: $(cat "$d/out")"
assert_eq "$(cat "$d/out")" "console: virtio-console found
console: sent
console: got PING" "console: the steps"
printf 'ctr console from guest\n' >"$d/want.log"
cmp -s "$d/want.log" "$d/agent.log" || fail "console: the agent log: $(od -c "$d/agent.log" | head -3)"
true

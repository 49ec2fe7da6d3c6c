# Nested lane: vm/'s live snapshot on a tiny guest, without the runtime. count.bin prints 0 to 9,
# one digit per TSC delay, with its count in a register; vm-smoke takes a live snapshot partway
# (2 vCPUs: the second never started, its state saved and restored as such), lets the first VM run
# to its end, then resumes a second VM from the snapshot: that one prints only the digits after
# the snapshot's, then ends the same way.
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
g=${VM_GUESTS:-$(dirname "$VM_SMOKE")/vmguest}
[ -s "$g/count.bin" ] || { echo "skipped: no count.bin in $g"; exit 0; }
tmp=$(mktemp -d /var/tmp/ctr-vmlive-guest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/snap"
# Bounded: a hang shows as this test's failure, not as the lane's timeout.
out=$(timeout 120 "$VM_SMOKE" --vcpus 2 --live "$tmp/snap" --live-at 350 "$g/count.bin" 64 2>"$tmp/err") ||
        fail "vm-smoke --live: $(cat "$tmp/err")"
echo "$(tr '\n' ' ' <<<"$out")| $(tr '\n' ' ' <"$tmp/err")"
first=$(sed -n 1p <<<"$out")
resumed=$(sed -n 3p <<<"$out")
assert_eq "$first" 0123456789 "the first run counted to its end"
assert_eq "$(sed -n 2p <<<"$out")" "--- resumed ---" "the resume followed"
assert_match "$(cat "$tmp/err")" "^end=debug-exit code=42" "the first run's end"
assert_match "$(cat "$tmp/err")" "resumed end=debug-exit code=42" "the resumed run's end"
[ -n "$resumed" ] && [ "${#resumed}" -lt 10 ] || fail "the resumed run did not start partway: '$resumed'"
assert_eq "$resumed" "${first: -${#resumed}}" "the resumed run printed the digits after the snapshot's"
for f in vmstate memory; do [ -s "$tmp/snap/$f" ] || fail "no $f in the snapshot"; done
[ -e "$tmp/snap/disk.img" ] && fail "a disk copy without a disk"
assert_eq "$(stat -c %s "$tmp/snap/memory")" $((64 << 20)) "the memory file's size"

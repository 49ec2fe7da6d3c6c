# Nested lane: a --vm container's state is its root disk, and clone and export carry it. A file
# the guest wrote is in the clone (a copy of the disk with an empty machine-id and the clone's
# hostname inside) and in an export, imported after the original is destroyed: both boot and
# show it. The export reads the disk read-only through a loop device it does not leave behind.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
n=${T_PREFIX}vmc c=${T_PREFIX}vmc2 m=${T_PREFIX}vmc3
tmp=$(mktemp -d /var/tmp/ctr-vmclone.XXXXXX)
cleanup() { for x in "$n" "$c" "$m"; do ctr destroy --force "$x" >/dev/null 2>&1 || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
disk_cat() { debugfs -R "cat $2" "$T_ROOT/containers/$1/disk.img" 2>/dev/null; }

ctr create "$n" -t busybox --vm --net none --vm-memory 256M >/dev/null || fail "create --vm"
ctr start "$n" || fail "start"
ctr exec "$n" -- sh -c 'echo written-in-the-guest > /root/mark; echo guest-id > /etc/machine-id; sync' ||
        fail "write in the guest"
ctr stop "$n" -t 90 >/dev/null || fail "stop"
assert_eq "$(disk_cat "$n" /root/mark)" written-in-the-guest "the guest's write is on its disk"
[ ! -e "$T_ROOT/containers/$n/rootfs/root/mark" ] || fail "the test is moot: the write reached the tree too"

ctr clone "$n" "$c" || fail "clone a VM"
assert_eq "$(disk_cat "$c" /etc/machine-id)" "" "the clone's machine-id is empty"
assert_eq "$(disk_cat "$c" /etc/hostname)" "$c" "the clone's hostname on its disk"
assert_eq "$(disk_cat "$n" /etc/machine-id)" guest-id "the source's disk is untouched"
e2fsck -fn "$T_ROOT/containers/$c/disk.img" >/dev/null 2>&1 || fail "the clone's disk does not check clean"
ctr start "$c" || fail "start the clone"
assert_eq "$(ctr exec "$c" -- cat /root/mark)" written-in-the-guest "the clone has the guest's file"
assert_eq "$(ctr exec "$c" -- hostname)" "$c" "the clone's hostname"
ctr stop "$c" -t 90 >/dev/null || fail "stop the clone"

loops=$(losetup -a | wc -l)
ctr export "$n" "$tmp/vm.tar.zst" || fail "export a VM"
assert_eq "$(losetup -a | wc -l)" "$loops" "the export left no loop device"
ctr destroy "$n"
assert_eq "$(ctr import "$tmp/vm.tar.zst" "$m")" "$m" "import the VM"
[ -s "$T_ROOT/containers/$m/disk.img" ] || fail "the import built no disk"
ctr start "$m" || fail "start the imported VM"
assert_eq "$(ctr exec "$m" -- cat /root/mark)" written-in-the-guest "the imported VM has the guest's file"
ctr stop "$m" -t 90 >/dev/null || fail "stop the imported VM"

# Nested lane: `ctr start --vm` boots a container created without --vm as a VM, for good: a
# file written into its tree before is read in the guest from the disk built from that tree, its
# user namespace's range is given back, a later plain start boots the VM again. A start --vm
# that fails after the conversion (a pids limit below the VMM's vCPU threads) puts the
# container back as it was.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
n=${T_PREFIX}svm
cleanup() {
        ctr destroy --force "$n" >/dev/null 2>&1 || true
        ctr destroy --force "${T_PREFIX}svmu" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cfg() { json_field "$1" <"$T_ROOT/containers/$n/config.json"; }

# A user-namespaced tree: converted where it is idmapped (stored unshifted), refused where
# create had to chown it (as here, where the lane's root has no idmapped mounts).
u=${T_PREFIX}svmu
ctr create "$u" -t busybox --net none --storage dir >/dev/null || fail "create $u"
du=$T_ROOT/containers/$u
assert_eq "$(json_field 'd["security"]["userns"]' <"$du/config.json")" True "$u has a user namespace"
if [ "$(json_field 'd["security"]["idmap"]["shift"]' <"$du/config.json")" = chown ]; then
        before=$(cat "$du/config.json")
        rc=0; out=$(ctr start --vm "$u" 2>&1) || rc=$?
        assert_eq "$rc" 125 "start --vm of a chowned tree"
        assert_match "$out" "^ctr: start $u: vm: the tree was chowned" "the reason"
        assert_eq "$(cat "$du/config.json")" "$before" "its config unchanged"
        [ ! -e "$du/disk.img" ] || fail "a refused start --vm left a disk"
        ctr destroy "$u" >/dev/null || fail "destroy $u"
        n=${T_PREFIX}svm
        ctr create "$n" -t busybox --net none --storage dir --no-userns --hostname svm-guest >/dev/null || fail "create"
else
        n=$u
fi
d=$T_ROOT/containers/$n
userns=$(cfg 'd["security"]["userns"]')
echo "from-the-tree-$$" >"$d/rootfs/marker"
ctr config "$n" set vm.vcpus 2 >/dev/null || fail "set vm.vcpus"
ctr config "$n" set vm.memory 256M >/dev/null || fail "set vm.memory"

# A failing start after the conversion: back as it was, its disk gone.
ctr config "$n" set limits.pids 1 >/dev/null || fail "set limits.pids"
rc=0; out=$(ctr start --vm "$n" 2>&1) || rc=$?
assert_eq "$rc" 125 "start --vm under pids.max 1"
assert_match "$out" "^ctr: start $n: vm: start the thread of vCPU" "the VMM's error"
assert_eq "$(cfg 'd["mode"]')" container "mode back to container"
assert_eq "$(cfg 'd["security"]["userns"]')" "$userns" "the user namespace back"
if [ "$userns" = True ]; then
        assert_match "$(cfg 'd["security"]["idmap"]["uid"]')" "^[1-9][0-9]*$" "an id range again"
fi
[ ! -e "$d/disk.img" ] || fail "the failed conversion left its disk"
assert_eq "$(state_of "$n")" stopped "stopped"
ctr config "$n" set limits.pids null >/dev/null || fail "clear limits.pids"

# The conversion for good.
ctr start --vm "$n" || fail "start --vm: $(tail -5 "$T_ROOT/log/$n.monitor.log")"
assert_eq "$(cfg 'd["mode"]')" vm "mode vm saved"
assert_eq "$(cfg 'd["security"]["userns"]')" False "no user namespace for the VM"
assert_eq "$(cfg 'd["security"]["idmap"]')" None "the id range given back"
[ -s "$d/disk.img" ] || fail "no disk image"
out=$(ctr exec "$n" -- cat /marker 2>&1) || fail "exec: $out; monitor: $(tail -5 "$T_ROOT/log/$n.monitor.log")"
assert_eq "$out" "from-the-tree-$$" "the tree's file, read in the guest"
assert_match "$(ctr exec "$n" -- cat /proc/cmdline)" "i8042.nokbd" "it runs in the VM"
assert_eq "$(ctr exec "$n" -- hostname)" "$(cfg 'd["hostname"]')" "its hostname"
assert_eq "$(ctr exec "$n" -- grep -c ^processor /proc/cpuinfo)" 2 "vm.vcpus set before applies"
ctr exec "$n" -- sh -c 'echo written-in-the-vm > /marker2' || fail "write in the guest"
ctr stop "$n" -t 90 >/dev/null || fail "stop"

# A plain start boots the VM again, with what the guest wrote.
ctr start "$n" || fail "second start"
assert_eq "$(ctr exec "$n" -- cat /marker2)" written-in-the-vm "the disk is its root now"
rc=0; out=$(ctr start --vm "$n" 2>&1) || rc=$?
assert_eq "$rc" 125 "start --vm of a running VM"
assert_match "$out" "already running" "the reason"
ctr stop "$n" -t 90 >/dev/null || fail "second stop"
ctr destroy "$n" >/dev/null || fail "destroy"

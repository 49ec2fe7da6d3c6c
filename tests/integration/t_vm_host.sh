# --vm on any host: a create with no guest kernel on the host fetches Debian's into $CTR_CACHE
# (once), a fetch that fails creates nothing, and a start where /dev/kvm is missing, not KVM or
# not permitted is one line, status 125, the container left stopped with nothing set up. The
# nested lane runs it too (tests/vm-nested/t_vm_host.sh), where /dev/kvm is real.
n=$(cname vmh)
m=$(cname vmh2)
kc=$T_ROOT/kcache
cleanup() {
        ctr destroy --force "$n" >/dev/null 2>&1 || true
        ctr destroy --force "$m" >/dev/null 2>&1 || true
        umount -l "$T_ROOT/kvm-dev" 2>/dev/null || true
        rm -rf "$kc" "$T_ROOT/fakebin" "$T_ROOT/kvm-dev"
}
trap cleanup EXIT

# ctr with no kernel in /boot or the lane's cache (both hidden in a mount namespace of its own), in
# the host's network namespace where the package archive is reachable (--net none: nothing of
# the host's network is touched).
nokernel() {
        nsenter --net="$T_HOSTNET" unshare -m --propagation private sh -c '
                for d in /boot /var/cache/ctr-vmlane; do [ -d "$d" ] && mount -t tmpfs none "$d"; done
                exec "$@"' sh env CTR_CACHE="$kc" "$CTR" --root "$T_ROOT" "$@"
}

if [ "${CTR_VM:-}" != 1 ]; then # the lane has no route to a package archive
        # A fetch that fails (apt-cache answers nothing) creates nothing and leaves no partial download.
        mkdir -p "$T_ROOT/fakebin"
        printf '#!/bin/sh\necho "E: no package archive" >&2\nexit 100\n' >"$T_ROOT/fakebin/apt-cache"
        chmod 0755 "$T_ROOT/fakebin/apt-cache"
        rc=0; out=$(PATH="$T_ROOT/fakebin:$PATH" nokernel create "$n" -t busybox --vm --net none 2>&1) || rc=$?
        assert_eq "$rc" 125 "create --vm with no kernel and a failing fetch"
        assert_match "$out" "fetching linux-image-amd64 into $kc/kernels" "the fetch is announced"
        assert_match "$out" "fetching one failed.*apt-cache" "the error names the fetch and the tool"
        [ "$(printf '%s\n' "$out" | grep -c '^ctr: create')" = 1 ] || fail "not one error line: $out"
        [ ! -e "$T_ROOT/containers/$n" ] || fail "a failed fetch left the container"
        [ -z "$(ls -A "$kc/kernels" 2>/dev/null)" ] || fail "a failed fetch left $(ls -A "$kc/kernels")"

        # The real fetch: apt-get download of linux-image-amd64's kernel package, unpacked in the cache.
        rc=0; out=$(nokernel create "$n" -t busybox --vm --net none 2>&1) || rc=$?
        assert_eq "$rc" 0 "create --vm fetching the kernel: $out"
        assert_match "$out" "fetching linux-image-amd64" "the fetch is announced"
        k=$(ls "$kc"/kernels/linux-image-*/boot/vmlinuz-* 2>/dev/null | head -1)
        [ -n "$k" ] || fail "no kernel in $kc/kernels: $(ls -R "$kc" | head)"
        [ -d "$(dirname "$(dirname "$k")")/lib/modules" ] || fail "the kernel's modules were not unpacked beside it"
        assert_eq "$(ls -A "$kc/kernels" | grep -c '^\.fetch-')" 0 "no download directory left"
        # Found in the cache from now on: no second download.
        rc=0; out=$(nokernel create "$m" -t busybox --vm --net none 2>&1) || rc=$?
        assert_eq "$rc" 0 "second create --vm: $out"
        assert_no_match "$out" "fetching" "the cached kernel is used"
        ctr destroy "$m" >/dev/null || fail "destroy $m"
        ctr destroy "$n" >/dev/null || fail "destroy $n"
fi
# A --kernel that is neither a bzImage nor an ELF vmlinux: one line, nothing created.
rc=0; out=$(ctr create "$n" -t busybox --vm --net none --kernel /etc/hostname 2>&1) || rc=$?
assert_eq "$rc" 125 "create --vm --kernel /etc/hostname"
assert_match "$out" "^ctr: create $n: kernel: .*neither a bzImage nor an ELF vmlinux" "the kernel check"
[ ! -e "$T_ROOT/containers/$n" ] || fail "a refused --kernel left the container"

# The start checks below: a bridged VM (here in the test's network namespace).
CTR_CACHE=$kc ctr create "$n" -t busybox --vm >/dev/null || fail "create --vm"

# A start that cannot have KVM sets nothing up.
refused() { # refused WHAT REGEX CMD...
        local what=$1 re=$2 rc=0 out links
        shift 2
        links=$(ip -o link | sed 's/^[0-9]*: //')
        out=$("$@" 2>&1) || rc=$?
        assert_eq "$rc" 125 "start with $what"
        assert_match "$out" "^ctr: start $n: .*$re" "start with $what"
        [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "start with $what: not one line: $out"
        assert_eq "$(state_of "$n")" stopped "stopped after a start with $what"
        [ -z "$(ls /sys/fs/cgroup/ctr.slice /sys/fs/cgroup/unified/ctr.slice 2>/dev/null | grep -F "$n")" ] ||
                fail "start with $what left a cgroup"
        assert_eq "$(ip -o link | sed 's/^[0-9]*: //')" "$links" "links after a start with $what"
}
if [ ! -e /dev/kvm ]; then
        refused "no /dev/kvm" "no /dev/kvm" env -u CTR_VM_ALLOW_PVM "$CTR" --root "$T_ROOT" start "$n"
elif [ -d /sys/module/kvm_pvm ]; then
        refused "kvm_pvm" "kvm_pvm" env -u CTR_VM_ALLOW_PVM "$CTR" --root "$T_ROOT" start "$n"
fi
if [ -c /dev/kvm ]; then
        # A /dev/kvm that is not KVM, and one the caller may not open, each in a mount namespace.
        refused "/dev/null as /dev/kvm" "not a KVM device" \
                unshare -m --propagation private sh -c 'mount --bind /dev/null /dev/kvm && exec "$@"' sh \
                "$CTR" --root "$T_ROOT" start "$n"
        mkdir -p "$T_ROOT/kvm-dev"
        mount -t tmpfs -o mode=0755 none "$T_ROOT/kvm-dev"
        mknod -m 0000 "$T_ROOT/kvm-dev/kvm" c 10 232
        refused "a /dev/kvm it may not open" "permission denied" \
                unshare -m --propagation private sh -c 'mount --bind "$0" /dev/kvm && exec "$@"' "$T_ROOT/kvm-dev/kvm" \
                setpriv --bounding-set=-dac_override,-dac_read_search "$CTR" --root "$T_ROOT" start "$n"
fi
ctr destroy "$n" >/dev/null || fail "destroy $n"

# start --vm of a container created without --vm: refused with nothing changed where its tree is
# an overlay on another's, or (here) where there is no usable KVM.
a=$(cname vmh3)
b=$(cname vmh4)
cleanup_ab() { ctr destroy --force "$b" >/dev/null 2>&1 || true; ctr destroy --force "$a" >/dev/null 2>&1 || true; cleanup; }
trap cleanup_ab EXIT
ctr create "$a" -t busybox --net none --storage dir >/dev/null || fail "create $a"
if [ -n "${CTR_CI_CACHE:-}" ] && ls -d "$CTR_CI_CACHE"/templates/debian-bookworm-*/current >/dev/null 2>&1; then
        CTR_CACHE=$CTR_CI_CACHE ctr create "$b" -t debian -q --net none || fail "create $b from the debian fixture"
        assert_eq "$(json_field 'd["storage"]["driver"]' <"$T_ROOT/containers/$b/config.json")" overlay "$b's storage"
        before=$(cat "$T_ROOT/containers/$b/config.json")
        rc=0; out=$(ctr start --vm "$b" 2>&1) || rc=$?
        assert_eq "$rc" 125 "start --vm of an overlay container"
        assert_match "$out" "^ctr: start $b: vm: the tree is an overlay" "the reason"
        assert_eq "$(cat "$T_ROOT/containers/$b/config.json")" "$before" "its config unchanged"
        ctr destroy "$b" >/dev/null || fail "destroy $b"
fi
if [ ! -e /dev/kvm ] || [ -d /sys/module/kvm_pvm ]; then
        before=$(cat "$T_ROOT/containers/$a/config.json")
        rc=0; out=$(CTR_CACHE=$kc env -u CTR_VM_ALLOW_PVM "$CTR" --root "$T_ROOT" start --vm "$a" 2>&1) || rc=$?
        assert_eq "$rc" 125 "start --vm without usable KVM"
        assert_match "$out" "^ctr: start $a: kvm: " "the reason"
        assert_eq "$(cat "$T_ROOT/containers/$a/config.json")" "$before" "its config unchanged"
        [ ! -e "$T_ROOT/containers/$a/disk.img" ] || fail "a refused start --vm left a disk"
        assert_eq "$(state_of "$a")" stopped "stopped"
fi
ctr destroy "$a" >/dev/null || fail "destroy $a"

# Nested lane (make vm-nested-check: vmrun.sh -k kvm_amd: /dev/kvm here is a real SVM KVM): vm/'s VMM
# boots the Debian kernel as shipped (bzImage, 64-bit boot protocol) with a busybox initramfs;
# the init prints a marker on the console (the 8250, interrupt-driven from user space) and
# reboots, which with reboot=k ends the VM through the i8042 reset line. Then the same kernel as
# an uncompressed ELF vmlinux (the lane's cache unpacks one from the package), loaded segment by
# segment at its physical addresses and entered at its 64-bit entry point.
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
k=$(ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$k" ] || { echo "skipped: no cached Debian kernel"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc"
cp /bin/busybox "$tmp/root/bin/busybox"
mknod "$tmp/root/dev/console" c 5 1
printf '#!/bin/busybox sh\n/bin/busybox echo VMM-BOOT-OK\n/bin/busybox reboot -f\n' >"$tmp/root/init"
chmod 755 "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initrd"
cmdline="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet"
boot() { # boot KERNEL WHAT
        local t0; t0=$(date +%s)
        timeout -s KILL 150 "$VM_SMOKE" --kernel "$1" "$tmp/initrd" "$cmdline" 256 >"$tmp/console" 2>"$tmp/end" ||
                fail "vm-smoke ($2): $(cat "$tmp/end"); console: $(tail -c 1500 "$tmp/console")"
        echo "$2 booted in $(($(date +%s) - t0)) s"
        grep -q VMM-BOOT-OK "$tmp/console" || fail "$2: no marker from the guest's init; console: $(tail -c 1500 "$tmp/console")"
        assert_eq "$(cat "$tmp/end")" "end=reset code=0" "$2: the guest's reboot ends the VM"
}
boot "$k" bzImage
elf=${k%/vmlinuz-*}/vmlinux-${k##*/vmlinuz-}
if [ -s "$elf" ]; then
        boot "$elf" "ELF vmlinux"
else
        echo "skipped: no unpacked vmlinux in the lane's cache (ELF boot)"
fi

# Nested lane: vm/'s devices under the Debian kernel as shipped. A busybox initramfs loads the
# virtio modules from the kernel package, then checks from inside: 2 vCPUs online (MP table,
# SIPI through the in-kernel LAPIC), virtio-blk reads what the host wrote into the image and
# writes a marker the host reads back after the VM ends, the virtio console (hvc0) carries a line
# each way, and `poweroff -f` ends the VM as a halt (no ACPI: every vCPU in hlt, interrupts off).
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
k=$(ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$k" ] || { echo "skipped: no cached Debian kernel"; exit 0; }
rel=${k##*/vmlinuz-}
mods=${k%/boot/*}/lib/modules/$rel
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/m"
cp /bin/busybox "$tmp/root/bin/busybox"
mknod "$tmp/root/dev/console" c 5 1
order="virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev virtio/virtio_pci
block/virtio_blk char/virtio_console"
for m in $order; do cp "$mods/kernel/drivers/$m.ko" "$tmp/root/m/"; done
cat >"$tmp/root/init" <<EOF
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc
\$B mount -t sysfs sys /sys
\$B mount -t devtmpfs dev /dev
for m in $(for m in $order; do printf '%s ' "${m##*/}"; done); do \$B insmod /m/\$m.ko || \$B echo "INSMOD-FAIL \$m"; done
\$B echo "CPUS=\$(\$B grep -c ^processor /proc/cpuinfo)"
\$B sleep 1
\$B dd if=/dev/vda of=/sector bs=512 count=1 || \$B echo DD-READ-FAIL
\$B echo "DISK=\$(\$B head -c 16 /sector)"
\$B echo "SECTORS=\$(\$B cat /sys/block/vda/size)"
\$B printf GUEST-WROTE-THIS | \$B dd of=/dev/vda bs=512 seek=8 conv=sync,fsync || \$B echo DD-WRITE-FAIL
\$B stty -F /dev/hvc0 raw -echo
exec 3<>/dev/hvc0
\$B echo HELLO >&3
read -r line <&3
\$B echo "AGENT-GOT:\$line" >&3
\$B echo DONE
\$B poweroff -f
EOF
chmod 755 "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initrd"
printf 'HOST-WROTE-THIS!' >"$tmp/disk"
truncate -s 8M "$tmp/disk"
cmdline="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"
t0=$(date +%s)
timeout -s KILL 200 "$VM_SMOKE" --vcpus 2 --disk "$tmp/disk" --agent-log "$tmp/agent" --kernel "$k" "$tmp/initrd" \
        "$cmdline" 256 >"$tmp/console" 2>"$tmp/end" ||
        fail "vm-smoke: $(cat "$tmp/end"); console: $(tail -c 3000 "$tmp/console")"
echo "booted and powered off in $(($(date +%s) - t0)) s"
c=$(tr -d '\r' <"$tmp/console")
grep -q DONE <<<"$c" || fail "the guest's init did not finish; console: $(tail -c 3000 <<<"$c")"
assert_no_match "$c" "INSMOD-FAIL" "virtio modules load"
assert_match "$c" "CPUS=2" "two vCPUs online"
assert_match "$c" "DISK=HOST-WROTE-THIS!" "virtio-blk read"
assert_match "$c" "SECTORS=16384" "virtio-blk capacity"
assert_eq "$(dd if="$tmp/disk" bs=512 skip=8 count=1 2>/dev/null | head -c 16)" "GUEST-WROTE-THIS" "virtio-blk write"
assert_match "$(cat "$tmp/agent")" "AGENT-GOT:PING" "virtio console both ways"
assert_eq "$(cat "$tmp/end")" "end=halt code=0" "poweroff -f ends the VM as a halt"

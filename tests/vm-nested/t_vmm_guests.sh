# Nested lane: the power-off, virtio-blk and virtio-console guest programs of
# t_vmm_devices_guest under a real KVM (kvm_amd in the lane).
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
. "$T_HERE/t_vmm_devices_guest.sh"

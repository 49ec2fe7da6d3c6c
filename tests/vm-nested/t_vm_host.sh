# Nested lane: t_vm_host's start checks where /dev/kvm is real KVM (kvm_amd in the lane): a
# /dev/kvm that is not KVM, and one the caller may not open.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
. "$T_HERE/t_vm_host.sh"

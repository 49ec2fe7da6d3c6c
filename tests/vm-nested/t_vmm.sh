# Nested lane: the tiny guest programs of t_vmm (serial, zero page, identity map, 8250 loopback,
# i8042 reset, triple fault, bad input) under a real KVM (kvm_amd in the lane), for hosts whose
# own /dev/kvm is missing.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
. "$T_HERE/t_vmm.sh"

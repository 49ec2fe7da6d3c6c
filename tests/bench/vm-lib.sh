# Sourced by the VM benches (vm-boot.sh, vm-live.sh) as `. "$(dirname "$0")/vm-lib.sh" "$@"`: takes
# their arguments (CTR VM-SMOKE [RUNS], into CTR, SMOKE and RUNS), moves to the repository's top
# directory, and runs the bench again in the nested lane when this host has no hardware KVM.
set -euo pipefail
bench_name=$(basename "$0" .sh)
CTR=${1:?usage: $bench_name.sh CTR VM-SMOKE [RUNS]}
SMOKE=${2:?usage: $bench_name.sh CTR VM-SMOKE [RUNS]}
RUNS=${3:-3}
cd "$(dirname "$0")/../.."

# On a host without hardware KVM (kvm_pvm boots no stock kernel) run the calling bench again
# inside the nested lane: QEMU TCG with kvm_amd loaded in the guest. bench_vm_lane WHAT SCRIPT ARGS...
bench_vm_lane() {
        local what=$1 script=$2
        shift 2
        if [ -c /dev/kvm ] && { [ -d /sys/module/kvm_amd ] || [ -d /sys/module/kvm_intel ]; }; then
                return 0
        fi
        [ "${CTR_BENCH_IN_VM:-}" != 1 ] || { echo "$what bench: no hardware KVM even in the lane, skipped"; exit 0; }
        exec env PATH=/usr/sbin:/usr/bin:/sbin:/bin tests/vm/vmrun.sh -t 1200 -k irqbypass,kvm,kvm_amd \
                -e CTR_BENCH_IN_VM=1 -- "$script" "$@"
}

# The guest QEMU boots beside ctr's: sets bz to the kernel ctr finds by itself (vm.kernel null), in
# its order: the running release's, the newest in /boot, the lane's cache; writes ROOT/initrd from
# the same code ctr start runs. bench_vm_guest WHAT SMOKE ROOT HOSTNAME
bench_vm_guest() {
        local what=$1 smoke=$2 root=$3 host=$4
        bz=$(ls /boot/vmlinuz-"$(uname -r)" 2>/dev/null || ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 ||
                true)
        [ -n "$bz" ] || bz=$(ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
        [ -n "$bz" ] || { echo "$what bench: no guest kernel, skipped"; exit 0; }
        printf 'root=/dev/vda\nfstype=ext4\nagent=/dev/hvc0\ninit=/sbin/init\nhostname=%s\n' "$host" >"$root/guest.cfg"
        "$smoke" --write-initramfs "$bz" "$root/guest.cfg" "$root/initrd"
}

bench_vm_lane "$bench_name" "tests/bench/$bench_name.sh" "$CTR" "$SMOKE" "$RUNS"

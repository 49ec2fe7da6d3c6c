# Nested lane: a container booted as a VM end to end. `ctr create --vm` builds the ext4 disk
# from the busybox template; `ctr start` boots the Debian kernel (found in the lane's cache) with
# the generated initramfs (ctr-vminit loads virtio_pci, virtio_blk, virtio_console, ext4 and
# switches to the disk); busybox init runs from the disk and prints on the console (ttyS0 into
# the console log); the agent reports ready over the virtio console; `ctr stop` asks the guest's
# init to power off through the agent and the VM ends as a halt, not a kill.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
n=${T_PREFIX}vm
cleanup() { ctr destroy --force "$n" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Bad input first: one line, status 125, nothing created.
rc=0; out=$(ctr create "$n" -t busybox --vm --userns 2>&1) || rc=$?
assert_eq "$rc" 125 "--vm --userns refused"
assert_match "$out" "vm" "the error names the step"
ctr info "$n" >/dev/null 2>&1 && fail "a refused create left a container"
rc=0; out=$(ctr create "$n" -t busybox --vm --vcpus 0 2>&1) || rc=$?
assert_eq "$rc" 125 "--vcpus 0 refused"

rc=0; out=$(ctr create "$n" -t busybox --vm --vm-disk 1M 2>&1) || rc=$?
assert_eq "$rc" 125 "--vm-disk 1M refused"
assert_match "$out" "vm-disk" "the error names the flag"
[ ! -e "$T_ROOT/containers/$n" ] || fail "a refused create left $n"

# The VMM is in the container's cgroup: a pids limit below its vCPU threads fails the start
# itself (the threads exist before the start reports done), one line, and leaves it stopped.
ctr create "$n" -t busybox --vm --net none --vcpus 2 --pids 2 >/dev/null || fail "create --vm --pids 2"
rc=0; out=$(ctr start "$n" 2>&1) || rc=$?
assert_eq "$rc" 125 "start of a 2-vCPU VM under pids.max 2"
assert_match "$out" "^ctr: start $n: vm: start the thread of vCPU [0-9] of 2: Resource temporarily unavailable$" \
        "the pids limit binds the VMM"
assert_eq "$(state_of "$n")" stopped "stopped after the refused start"
ctr destroy "$n" >/dev/null || fail "destroy after the pids check"

ctr create "$n" -t busybox --vm --net none --vcpus 2 --vm-memory 256M --vm-disk 24M --memory 384M --pids 64 >/dev/null ||
        fail "create --vm"
assert_eq "$(stat -c %s "$T_ROOT/containers/$n/disk.img")" $((24 << 20)) "the disk has the --vm-disk size"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vm"]["disk"])' "$T_ROOT/containers/$n/config.json")" \
        24M "vm.disk recorded"
assert_eq "$(ctr config "$n" get vm.vcpus)" 2 "vm.vcpus recorded"
[ -s "$T_ROOT/containers/$n/disk.img" ] || fail "no disk image at create"
t0=$(date +%s)
ctr start "$n" || fail "start a VM"
log=$T_ROOT/log/$n.log
mlog=$T_ROOT/log/$n.monitor.log
for _ in $(seq 240); do
        grep -q "busybox init up" "$log" 2>/dev/null && grep -q "guest agent ready" "$mlog" 2>/dev/null && break
        sleep 0.5
done
grep -q "busybox init up" "$log" 2>/dev/null ||
        fail "the guest's init did not run from the disk; console: $(tail -c 2000 "$log" 2>/dev/null); monitor: $(tail -5 "$mlog" 2>/dev/null)"
grep -q "guest agent ready" "$mlog" || fail "no agent; monitor: $(tail -5 "$mlog")"
echo "booted to init and agent in $(($(date +%s) - t0)) s"
# The VMM and its vCPU threads in the container's cgroup, under its limits, the guest's memory
# charged there.
pid=$(init_pid "$n")
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
grep -qx "$pid" "$cg/cgroup.procs" || fail "the VMM $pid is not in $cg: $(cat "$cg/cgroup.procs")"
assert_eq "$(cat "$cg/memory.max")" $((384 << 20)) "memory.max of the VM's cgroup"
assert_eq "$(cat "$cg/pids.max")" 64 "pids.max of the VM's cgroup"
threads=$(ls "/proc/$pid/task" | wc -l)
[ "$threads" -ge 3 ] || fail "the VMM has $threads threads, not its I/O thread and 2 vCPUs"
[ "$(cat "$cg/pids.current")" -ge "$threads" ] || fail "pids.current $(cat "$cg/pids.current") < the VMM's $threads threads"
[ "$(cat "$cg/memory.current")" -ge $((16 << 20)) ] || fail "memory.current $(cat "$cg/memory.current"): guest memory not charged"
# The VMM holds none of its monitor's sockets (control socket, clients, its own ends of the
# agent and control pairs): it does not exec, so only an explicit close keeps them out.
mon=$(monitor_pid "$n")
socks() { ls -l "/proc/$1/fd" 2>/dev/null | grep -o 'socket:\[[0-9]*\]' | sort -u; }
shared=$(comm -12 <(socks "$mon") <(socks "$pid"))
[ -z "$shared" ] || fail "the VMM holds sockets of its monitor: $shared"
[ -n "$(socks "$mon")" ] || fail "no sockets seen in the monitor $mon: the check above proves nothing"

# ctr attach: the guest's ttyS0 is the console; a line typed there runs in its shell.
out=$( (sleep 1; echo 'echo vm-marker-$((6*7))'; sleep 4) | ctr attach "$n" 2>&1) || fail "attach: $out"
assert_match "$out" "vm-marker-42" "a command typed on the VM's console ran"
grep -q "vm-marker-42" "$log" || fail "the console log lacks the attach session's output"

out=$(ctr list 2>&1) || fail "list: $out"
assert_match "$out" "$n +running .* vm/2cpu/256M" "listed with its VM shape"
assert_eq "$(ctr list --format json | json_field '[(c["mode"], c["vcpus"], c["vm_memory"]) for c in d if c["name"]=="'"$n"'"][0]')" \
        "('vm', 2, 268435456)" "list json shows the VM shape"
out=$(ctr stop "$n" -t 90 2>&1) || fail "stop: $out; monitor: $(tail -5 "$mlog")"
assert_no_match "$(cat "$mlog")" "killing the container" "the guest powered off on its own"
assert_match "$(ctr info "$n" --format json)" '"state": *"stopped"' "stopped"
assert_match "$(ctr info "$n" --format json)" '"mode": *"vm"' "info shows vm mode"
ctr destroy "$n" || fail "destroy"

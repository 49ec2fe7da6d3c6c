# The BPF device filter: the standard nodes work, everything else is denied, mknod of block
# devices included; --device opens a hole for exactly the rule given. Without a user namespace:
# in one, the kernel refuses every mknod but a whiteout before the filter is asked.
n=$(cname dev)
mk "$n" --no-userns
# A block node planted in the rootfs from the host, with a major reserved for local use that no
# driver registered here: an allowed open fails with ENXIO, a denied one with EPERM, and nothing
# on the host is touched either way.
maj=""
for m in $(seq 240 250); do
        awk '/^Block devices:/ {b=1} b && $1 == '"$m"' {f=1} END {exit !f}' /proc/devices || { maj=$m; break; }
done
[ -n "$maj" ] || { echo "skipped: no free local-use block major"; exit 0; }
mknod "$T_ROOT/containers/$n/rootfs/tmp/disk" b "$maj" 0
ctr start "$n"
out=$(ctr exec "$n" -- sh -c 'mknod /tmp/sda b 8 0 2>&1; echo rc=$?')
assert_match "$out" "Operation not permitted" "mknod of a block device denied"
out=$(ctr exec "$n" -- sh -c 'cat /tmp/disk 2>&1; true')
assert_match "$out" "Operation not permitted" "open of a block device denied"
ctr exec "$n" -- sh -c 'mknod /tmp/null2 c 1 3 && head -c 4 /tmp/null2 && head -c 16 /dev/urandom | wc -c' | grep -qx 16 ||
        fail "standard character devices must work"
out=$(ctr exec "$n" -- sh -c 'mknod /tmp/mem c 1 1 2>&1; echo rc=$?')
assert_match "$out" "Operation not permitted" "mknod of /dev/mem's numbers denied"
ctr stop "$n" --kill
ctr destroy "$n"

# With a rule for it, the same node opens as far as the kernel allows (ENXIO: no driver).
n2=$(cname dev2)
mk "$n2" --no-userns --device "b $maj:0 rw"
mknod "$T_ROOT/containers/$n2/rootfs/tmp/disk" b "$maj" 0
ctr start "$n2"
out=$(ctr exec "$n2" -- sh -c 'cat /tmp/disk 2>&1; true')
assert_match "$out" "No such device" "allowed device reaches the driver"
out=$(ctr exec "$n2" -- sh -c "mknod /tmp/x b $maj 0 2>&1; echo rc=\$?")
assert_match "$out" "Operation not permitted" "rw without m still denies mknod"
assert_eq "$(ctr info "$n2" --format json | json_field 'd["devices"]')" "['b $maj:0 rw']" "info lists the rule"
ctr stop "$n2" --kill
ctr destroy "$n2"
e=$(expect_125 "bad device rule" ctr create "$(cname dev3)" -t busybox --device "z 1:2 r")
assert_match "$e" "--device: 'z 1:2 r'" "bad rule names the flag and the rule"

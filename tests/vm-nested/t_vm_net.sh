# Nested lane: a --vm container on ctr's bridge, in the test's own network namespace (which
# plays the host). The VM's virtio-net is backed by a TAP on the bridge; ctr-vminit gives the
# guest's eth0 the leased IPv4 address, the default route via the bridge and the host's DNS
# settings. The host, a namespace container on the same bridge and the guest reach each other;
# a port forward reaches a server in the guest; the TAP goes with the VM.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
v=${T_PREFIX}vmn
c=${T_PREFIX}vmnc
cleanup() {
        ctr destroy --force "$v" >/dev/null 2>&1 || true
        ctr destroy --force "$c" >/dev/null 2>&1 || true
}
trap cleanup EXIT

ctr create "$v" -t busybox --vm --vm-memory 256M -p 8080:80 >/dev/null || fail "create --vm on the bridge"
ctr create "$c" -t busybox >/dev/null || fail "create a namespace container"
ctr start "$v" || fail "start the VM"
ctr start "$c" || fail "start the container"
v4=$(ctr info "$v" --format json | json_field 'd["ipv4"]')
c4=$(ctr info "$c" --format json | json_field 'd["ipv4"]')
tap=$(ctr info "$v" --format json | json_field 'd["veth"]')
assert_match "$v4" '^10\.57\.[0-9]+\.[0-9]+$' "the VM's leased address"
ip link show "$tap" | grep -q "master ctrbr0" || fail "the TAP $tap is not on the bridge: $(ip link show "$tap" 2>&1)"
assert_match "$(ip -d link show "$tap")" "tun type tap" "a TAP device"

# Inside the guest (the first exec waits for its agent): eth0, route, DNS, MAC.
out=$(ctr exec "$v" -- ip addr show eth0 2>&1) || fail "exec: $out"
assert_match "$out" "inet $v4/16" "the guest's eth0 has the leased address"
assert_match "$out" "link/ether 02:63:" "the guest's MAC is ctr's, locally administered"
assert_match "$(ctr exec "$v" -- ip route)" "default via 10\.57\.0\.1 dev eth0" "default route via the bridge"
assert_match "$(ctr exec "$v" -- cat /etc/resolv.conf)" "Written by ctr" "resolv.conf from the host"
[ -n "$(grep -l 'Written by ctr' "$T_ROOT/containers/$v/rootfs/etc/resolv.conf" 2>/dev/null)" ] &&
        fail "resolv.conf was written into the container's tree"

# Frames both ways: the host and a namespace container reach the guest, the guest reaches them.
busybox ping -c1 -W5 "$v4" >/dev/null || fail "the host cannot ping the VM at $v4"
ctr exec "$c" -- ping -c1 -W5 "$v4" >/dev/null || fail "the container cannot ping the VM"
ctr exec "$v" -- ping -c1 -W5 10.57.0.1 >/dev/null || fail "the VM cannot ping the bridge"
ctr exec "$v" -- ping -c1 -W5 "$c4" >/dev/null || fail "the VM cannot ping the container"

# TCP: a server in the guest through the port forward and directly; 1 MiB comes back intact.
ctr exec "$v" -- sh -c 'mkdir -p /www && echo "served by the VM" > /www/index.html &&
        head -c 1048576 /dev/urandom > /www/blob && httpd -p 80 -h /www' || fail "httpd in the guest"
# Under nested KVM in TCG a guest can go quiet for seconds: 30 s per socket read before a
# transfer counts as stalled, and then the TAP's counters show where the frames went.
fetch() { python3 -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' "$1"; }
assert_eq "$(fetch http://127.0.0.1:8080/)" "served by the VM" "forward on 127.0.0.1 to the VM"
assert_eq "$(ctr exec "$c" -- wget -q -O- "http://$v4/")" "served by the VM" "container to VM over TCP"
want=$(ctr exec "$v" -- md5sum /www/blob | cut -d' ' -f1)
got=$(fetch "http://$v4/blob" | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || echo "the TAP after the transfer: $(ip -s link show "$tap")"
assert_eq "$got" "$want" "1 MiB from the guest over the bridge"

# A live snapshot of the bridged VM, resumed: its card comes back on a new TAP of the same name,
# its address and routes go on, and it answers on the bridge again.
out=$(ctr snapshot --live "$v" s1 2>&1) || fail "live snapshot of a bridged VM: $out"
ctr stop "$v" -t 60 >/dev/null || fail "stop before the restore"
out=$(ctr restore --live --no-backup "$v" s1 2>&1) || fail "restore --live of a bridged VM: $out"
assert_eq "$(ctr info "$v" --format json | json_field 'd["ipv4"]')" "$v4" "the resumed VM's lease"
ip link show "$tap" | grep -q "master ctrbr0" || fail "no TAP on the bridge after the restore"
ok=0
for _ in $(seq 10); do busybox ping -c1 -W2 "$v4" >/dev/null 2>&1 && { ok=1; break; }; done
[ "$ok" = 1 ] || fail "the resumed VM does not answer on the bridge"
assert_eq "$(ctr exec "$c" -- wget -q -O- "http://$v4/")" "served by the VM" "its server, resumed, over the bridge"

ctr stop "$v" -t 60 >/dev/null || fail "stop"
if ip link show "$tap" >/dev/null 2>&1; then fail "the TAP $tap is left after stop"; fi
if nft list chain inet ctr ports 2>/dev/null | grep -q "dnat ip to $v4:80"; then fail "the VM's forward is left after stop"; fi
ctr destroy "$v" || fail "destroy"

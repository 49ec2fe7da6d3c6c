# Bridge networking, in the test's own network namespace (which plays the host): containers
# reach each other over the bridge (IPv4 and IPv6), the host reaches a container's server through
# port forwards (loopback, the bridge address, IPv6), a container reaches "the outside world" (a
# second namespace with no route back to the container subnet) through NAT, and nothing of a
# container survives its destroy.
a=$(cname neta)
b=$(cname netb)
out_ns="${T_NETNS}o"
www=$(mktemp -d)
server_pid=
cleanup() {
        [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
        # The veth goes first and synchronously: a namespace is torn down after `netns del` returns.
        ip link del "${T_NETNS:0:9}x" 2>/dev/null
        ip netns del "$out_ns" 2>/dev/null
        rm -rf "$www"
}
trap cleanup EXIT

mk "$a"
mk "$b" -p 127.0.0.1:8080:80 -p 8081:80 -p 5353:53/udp
ctr start "$a"
ctr start "$b"
a4=$(ctr info "$a" --format json | json_field 'd["ipv4"]')
b4=$(ctr info "$b" --format json | json_field 'd["ipv4"]')
b6=$(ctr info "$b" --format json | json_field 'd["ipv6"]')
assert_match "$a4" '^10\.57\.[0-9]+\.[0-9]+$' "a's IPv4 address"
assert_match "$b6" '^fd57:6374:7200::[0-9a-f]+$' "b's IPv6 address"
[ "$a4" != "$b4" ] || fail "two containers share $a4"

# Inside: eth0 with the leased addresses, a default route via the bridge, resolv.conf written.
ctr exec "$b" -- ip addr show eth0 | grep -q "inet $b4/16" || fail "eth0 lacks $b4"
ctr exec "$b" -- ip -6 addr show eth0 | grep -q "inet6 $b6/64" || fail "eth0 lacks $b6"
assert_match "$(ctr exec "$b" -- ip route)" "default via 10\.57\.0\.1 dev eth0" "default route"
assert_match "$(ctr exec "$b" -- cat /etc/resolv.conf)" "Written by ctr" "resolv.conf"

# Container to container, both families.
ctr exec "$a" -- ping -c1 -W3 "$b4" >/dev/null || fail "ping $b4 from $a"
ctr exec "$a" -- ping -6 -c1 -W3 "$b6" >/dev/null || fail "ping $b6 from $a"

# A server in b, reached from the host through the forwards and from a directly.
ctr exec "$b" -- sh -c 'mkdir -p /www && echo "served by b" > /www/index.html && httpd -p 80 -h /www'
fetch() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "$1"; }
assert_eq "$(fetch http://127.0.0.1:8080/)" "served by b" "forward on 127.0.0.1"
assert_eq "$(fetch http://10.57.0.1:8081/)" "served by b" "forward on the bridge address"
assert_eq "$(fetch 'http://[fd57:6374:7200::1]:8081/')" "served by b" "IPv6 forward"
assert_eq "$(ctr exec "$a" -- wget -q -O- "http://$b4/")" "served by b" "container to container TCP"
# 127.0.0.1:8080 is bound to loopback only: the bridge address does not forward it.
if fetch http://10.57.0.1:8080/ >/dev/null 2>&1; then fail "8080 answered on the bridge address"; fi
# Hairpin: a reaches b through the host's forward.
assert_eq "$(ctr exec "$a" -- wget -q -O- http://10.57.0.1:8081/)" "served by b" "hairpin through the forward"
nft list chain inet ctr ports | grep -q "udp dport 5353 dnat ip to $b4:53" || fail "udp forward rule missing"

# The outside world: a namespace joined to ours by a veth, with no route to 10.57.0.0/16.
ip netns add "$out_ns"
ip link add "${T_NETNS:0:9}x" type veth peer name eth0 netns "$out_ns"
ip addr add 198.51.100.1/24 dev "${T_NETNS:0:9}x"
ip link set "${T_NETNS:0:9}x" up
ip -n "$out_ns" addr add 198.51.100.2/24 dev eth0
ip -n "$out_ns" link set eth0 up
ip -n "$out_ns" link set lo up
echo "outside" > "$www/index.html"
(cd "$www" && exec ip netns exec "$out_ns" python3 -m http.server --bind 198.51.100.2 8000) 2>"$www/log" &
server_pid=$!
for _ in $(seq 50); do grep -q "Serving HTTP" "$www/log" 2>/dev/null && break; sleep 0.1; done
assert_eq "$(ctr exec "$a" -- wget -q -O- http://198.51.100.2:8000/index.html)" "outside" "NAT to the outside"
grep -q '^198\.51\.100\.1 ' "$www/log" || fail "the outside saw no masqueraded source: $(cat "$www/log")"
assert_match "$(ctr info "$a")" "net.ipv4.ip_forward=1" "info notes the host change"

# Addresses survive a restart; stop removes the veth and the forwards.
veth=$(ctr info "$b" --format json | json_field 'd["veth"]')
ip link show "$veth" >/dev/null || fail "host side $veth missing"
ctr restart "$b"
assert_eq "$(ctr info "$b" --format json | json_field 'd["ipv4"]')" "$b4" "address after restart"
ctr stop "$b" --kill
if ip link show "$veth" >/dev/null 2>&1; then fail "$veth left after stop"; fi
if nft list chain inet ctr ports | grep -q "ctr .* $b\""; then fail "rules of $b left after stop"; fi
assert_eq "$(ctr info "$b" --format json | json_field 'd["ipv4"]')" "$b4" "a stopped container keeps its lease"

# A monitor killed outright: the next start repairs what it left.
mon=$(monitor_pid "$a")
kill -9 "$mon"
for _ in $(seq 50); do [ "$(state_of "$a")" = stopped ] && break; sleep 0.1; done
ctr start "$a"
assert_eq "$(ctr info "$a" --format json | json_field 'd["ipv4"]')" "$a4" "address after a crash"
ctr stop "$a" --kill

# A crashed monitor with forwards in place: destroy repairs it, rules and veth included.
ctr start "$b"
veth=$(ctr info "$b" --format json | json_field 'd["veth"]')
kill -9 "$(monitor_pid "$b")"
for _ in $(seq 50); do ip link show "$veth" >/dev/null 2>&1 || break; sleep 0.1; done
nft list chain inet ctr ports | grep -q "ctr .* $b\"" || fail "the crash should have left b's rules for destroy to find"
ctr destroy "$b"
if nft list chain inet ctr ports | grep -q "ctr .* $b\""; then fail "rules of crashed $b left after destroy"; fi

# The guard against reaching the host's 127.0.0.1 through route_localnet is in place.
nft list chain inet ctr guard | grep -q 'iifname "ctrbr0" ip daddr 127.0.0.0/8 drop' || fail "localnet guard missing"

# Destroy releases the lease and leaves no veth and no rule.
ctr destroy "$a"
if grep -qE "^($a|$b) " "$T_ROOT/network/leases"; then fail "leases left: $(cat "$T_ROOT/network/leases")"; fi
if ip -o link show type veth | grep -qE ' ctr[0-9a-f]{8}@'; then fail "veth left: $(ip -o link show type veth)"; fi
if nft list chain inet ctr ports | grep -q comment; then fail "rules left: $(nft list chain inet ctr ports)"; fi

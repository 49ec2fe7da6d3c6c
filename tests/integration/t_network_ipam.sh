# Addresses and forwards are handed out exactly once; bad network input is refused with one line
# and changes nothing; the other network modes; ctr.conf.
before=$(root_fingerprint)
expect_125 "port out of range" ctr create "$(cname bad1)" -t busybox -p 70000:80 | grep -q "70000 is outside 1-65535" ||
        fail "port range message"
expect_125 "port not a number" ctr create "$(cname bad2)" -t busybox -p abc | grep -q "'abc' is not" ||
        fail "port syntax message"
expect_125 "duplicate forward" ctr create "$(cname bad3)" -t busybox -p 8080:80 -p 8080:81 | grep -q "overlaps" ||
        fail "duplicate message"
expect_125 "bad protocol" ctr create "$(cname bad4)" -t busybox -p 8080:80/sctp >/dev/null
expect_125 "bad mode" ctr create "$(cname bad5)" -t busybox --net bogus >/dev/null
expect_125 "address outside the subnet" ctr create "$(cname bad6)" -t busybox --ip 10.99.0.5 |
        grep -q "not a host address of the subnet 10.57.0.0/16" || fail "outside-subnet message"
expect_125 "the bridge's address" ctr create "$(cname bad7)" -t busybox --ip 10.57.0.1 >/dev/null
expect_125 "not an address" ctr create "$(cname bad8)" -t busybox --ip 10.57.0 >/dev/null
expect_125 "forward without bridge" ctr create "$(cname bad9)" -t busybox --net none -p 80:80 >/dev/null
assert_eq "$(root_fingerprint)" "$before" "bad creates changed the state root"

# A fixed address is claimed at create; a second claim is refused and changes nothing.
f1=$(cname fixed1)
mk "$f1" --ip 10.57.3.9
before=$(root_fingerprint)
expect_125 "address taken" ctr create "$(cname fixed2)" -t busybox --ip 10.57.3.9 | grep -q "leased to container $f1" ||
        fail "taken-address message"
assert_eq "$(root_fingerprint)" "$before" "a refused --ip changed the state root"
ctr start "$f1"
assert_eq "$(ctr info "$f1" --format json | json_field 'd["ipv4"]')" "10.57.3.9" "fixed address"
assert_eq "$(ctr info "$f1" --format json | json_field 'd["ipv6"]')" "fd57:6374:7200::309" "paired IPv6 address"
ctr stop "$f1" --kill
ctr destroy "$f1"

# Two running containers cannot forward the same host port.
p1=$(cname port1)
p2=$(cname port2)
mk "$p1" -p 9000:80
mk "$p2" -p 127.0.0.1:9000:81
ctr start "$p1"
expect_125 "port taken" ctr start "$p2" | grep -q "already forwarded to container $p1" || fail "port-taken message"
assert_eq "$(state_of "$p2")" stopped "refused start"
ctr stop "$p1" --kill
ctr start "$p2" # free again once p1 stopped
ctr stop "$p2" --kill
ctr destroy "$p1"
ctr destroy "$p2"

# Twenty starts at once: twenty different addresses.
names=()
for i in $(seq 20); do
        names+=("$(cname "many$i")")
        mk "${names[-1]}"
done
pids=()
for n in "${names[@]}"; do
        ctr start "$n" &
        pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel start failed"; done
addrs=$(ctr list --format json | json_field '"\n".join(c["ipv4"] for c in d if c["ipv4"])')
assert_eq "$(printf '%s\n' "$addrs" | wc -l)" 20 "20 addresses"
assert_eq "$(printf '%s\n' "$addrs" | sort -u | wc -l)" 20 "20 distinct addresses"
assert_eq "$(ip -o link show type veth | grep -cE ' ctr[0-9a-f]{8}@')" 20 "20 veths"
for n in "${names[@]}"; do ctr stop "$n" --kill & done
wait
for n in "${names[@]}"; do ctr destroy "$n"; done
assert_eq "$(grep -vc '^#' "$T_ROOT/network/leases")" 0 "leases after destroying all"

# --net none: loopback only; --net host: the host's links, with a warning; netns: joins.
n1=$(cname netnone)
mk "$n1" --net none
ctr start "$n1"
assert_eq "$(ctr exec "$n1" -- ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')" "lo " "links with --net none"
ctr stop "$n1" --kill
ctr destroy "$n1"
n2=$(cname nethost)
mk "$n2" --net host
assert_match "$(ctr info "$n2")" "WARNING: shares the host's network namespace" "host-mode warning"
ctr destroy "$n2"
joined="${T_NETNS}j"
ip netns add "$joined"
trap 'ip netns del "$joined" 2>/dev/null' EXIT
ip -n "$joined" link add dummy7 type veth peer name dummy8
n3=$(cname netjoin)
mk "$n3" --net "netns:/run/netns/$joined"
ctr start "$n3"
ctr exec "$n3" -- ip link show dummy7 >/dev/null || fail "the joined namespace's link is not visible"
assert_match "$(ctr info "$n3")" "netns:/run/netns/$joined" "info shows the joined namespace"
ctr stop "$n3" --kill
ctr destroy "$n3"

# ctr.conf: another bridge and subnet, IPv6 off; a bad file is an error naming it.
printf '{"network": {"bridge": "%s", "ipv4": "172.31.250.0/24", "ipv6": null}}\n' "${T_NETNS:0:10}b" >"$T_ROOT/ctr.conf"
c1=$(cname conf)
mk "$c1"
ctr start "$c1"
assert_eq "$(ctr info "$c1" --format json | json_field 'd["ipv4"]')" "172.31.250.2" "address from ctr.conf"
assert_eq "$(ctr info "$c1" --format json | json_field 'd["ipv6"]')" "None" "no IPv6 when disabled"
ip link show "${T_NETNS:0:10}b" >/dev/null || fail "bridge from ctr.conf missing"
ctr stop "$c1" --kill
echo '{"network": {"ipv4": "172.31.250.0/33"}}' >"$T_ROOT/ctr.conf"
expect_125 "bad ctr.conf" ctr start "$c1" | grep -q "ctr.conf" || fail "bad ctr.conf message"
rm "$T_ROOT/ctr.conf"
ctr destroy "$c1"

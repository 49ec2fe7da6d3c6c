#!/bin/bash
# make bench, network part, inside a private network namespace that plays the host:
#   1. the extra start latency of --net bridge over --net none (start + stop --kill, median of
#      RUNS each, interleaved), as a ratio;
#   2. TCP throughput container -> host through ctr's veth and bridge, next to the same transfer
#      between two plain network namespaces joined by a veth (iperf3 both), as a ratio.
# Usage: tests/bench/net.sh PATH-TO-CTR [RUNS]   (root)
set -euo pipefail
CTR=${1:?usage: net.sh PATH-TO-CTR [RUNS]}
RUNS=${2:-20}
TAG=ctrbn$$
NS=$TAG-h
NS_A=$TAG-a NS_B=$TAG-b
ROOT=$(mktemp -d /tmp/ctr-bench-net.XXXXXX)
PROBE_PORT=5201

cleanup() {
        [ -n "${LISTENER:-}" ] && kill "$LISTENER" 2>/dev/null
        for n in "$TAG-none" "$TAG-br"; do
                nsenter --net="/run/netns/$NS" "$CTR" --root "$ROOT" destroy --force "$n" >/dev/null 2>&1 || true
        done
        for n in "$NS" "$NS_A" "$NS_B"; do ip netns del "$n" 2>/dev/null || true; done
        rm -rf "$ROOT"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
c() { in_ns "$CTR" --root "$ROOT" "$@"; }

now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {printf "%d\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
iperf() { # iperf CLIENT-NETNS-PREFIX... : MB/s of a 3 s TCP stream to the server at $DEST
        "$@" iperf3 -c "$DEST" -p $PROBE_PORT -t 3 -J |
                python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))'
}
server() { # server NETNS ADDR
        nsenter --net="/run/netns/$1" iperf3 -s -1 -B "$2" -p $PROBE_PORT >/dev/null &
        LISTENER=$!
        sleep 0.3
}
c create "$TAG-none" -t busybox -q --net none
c create "$TAG-br" -t busybox -q --net bridge
c start "$TAG-br" && c stop "$TAG-br" --kill # first use creates the bridge and NAT table
none=() br=()
for _ in $(seq "$RUNS"); do
        for mode in none br; do
                t0=$(now_us)
                c start "$TAG-$mode"
                t1=$(now_us)
                c stop "$TAG-$mode" --kill
                if [ $mode = none ]; then none+=($((t1 - t0))); else br+=($((t1 - t0))); fi
        done
done
m_none=$(printf '%s\n' "${none[@]}" | median)
m_br=$(printf '%s\n' "${br[@]}" | median)
echo "start latency (median of $RUNS): --net none $((m_none / 1000)).$(((m_none % 1000) / 100)) ms," \
        "--net bridge $((m_br / 1000)).$(((m_br % 1000) / 100)) ms;" \
        "bridge costs $(((m_br - m_none) / 1000)).$((((m_br - m_none) % 1000) / 100)) ms more," \
        "ratio $(awk -v a="$m_br" -v b="$m_none" 'BEGIN {printf "%.2f", a / b}')x"

# Throughput: iperf3 runs in the container's network namespace (the container's rootfs has
# no iperf3; the packets take the same path: eth0, veth, bridge, host).
c start "$TAG-br"
pid=$(c info "$TAG-br" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
server "$NS" 10.57.0.1
DEST=10.57.0.1
ct=$(iperf nsenter --net="/proc/$pid/ns/net")
wait "$LISTENER"; LISTENER=
c stop "$TAG-br" --kill

ip netns add "$NS_A"
ip netns add "$NS_B"
ip -n "$NS_A" link add veth0 type veth peer name veth0 netns "$NS_B"
ip -n "$NS_A" addr add 198.51.100.1/24 dev veth0
ip -n "$NS_B" addr add 198.51.100.2/24 dev veth0
ip -n "$NS_A" link set veth0 up
ip -n "$NS_B" link set veth0 up
server "$NS_B" 198.51.100.2
DEST=198.51.100.2
plain=$(iperf nsenter --net="/run/netns/$NS_A")
wait "$LISTENER"; LISTENER=
echo "TCP throughput (iperf3, 3 s): container->host over ctr's veth+bridge $ct MB/s," \
        "plain netns->netns veth $plain MB/s, ratio $(awk -v a="$ct" -v b="$plain" 'BEGIN {printf "%.2f", a / b}')x"

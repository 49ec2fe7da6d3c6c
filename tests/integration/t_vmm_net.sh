# The VMM's virtio-net against a TAP, driven by a guest program of our own (tests/vmguest/
# netframe.c: a minimal virtio-pci driver in freestanding C, small enough to run interpreted on
# a kvm_pvm host): the guest finds the card, negotiates, sets up both queues and sends an
# Ethernet frame; a packet socket on the TAP here sees it with the guest's MAC and answers; the
# guest reports the answer and ends with code 1 through the debug-exit port.
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
[ -n "${VM_GUESTS:-}" ] && [ -s "$VM_GUESTS/netframe.bin" ] || { echo "skipped: guest programs not built"; exit 0; }
[ -c /dev/kvm ] || { echo "skipped: no /dev/kvm"; exit 0; }
tap="${T_NETNS:0:10}t"
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$VM_SMOKE" --tap "$tap" "$VM_GUESTS/netframe.bin" >"$out" 2>"$err" &
vmm=$!
host=$(python3 - "$tap" <<'PY'
import socket, sys, time
tap = sys.argv[1]
deadline = time.time() + 60
while True:
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
        s.bind((tap, 0))
        break
    except OSError:
        if time.time() > deadline:
            print("no TAP %s" % tap); sys.exit(1)
        time.sleep(0.05)
s.settimeout(60)
while True:
    frame = s.recv(2048)
    if frame[12:14] == b"\x88\xb5":
        break
src = frame[6:12]
payload = frame[14:14 + 23]
answer = src + b"\x02\x63\xff\x00\x00\x02" + b"\x88\xb5" + b"ctr netframe from host"
s.send(answer.ljust(60, b"\0"))
print("src=%s payload=%s dst=%s" % (src.hex(":"), payload.decode(errors="replace"), frame[0:6].hex(":")))
PY
) || { kill "$vmm" 2>/dev/null; fail "the host side: $host; guest: $(cat "$out")"; }
wait "$vmm" || fail "vm-smoke failed: $(cat "$err")"
assert_eq "$host" "src=02:63:00:00:00:01 payload=ctr netframe from guest dst=ff:ff:ff:ff:ff:ff" \
        "the guest's frame on the TAP"
assert_match "$(cat "$out")" "netframe: got ctr netframe from host" "the host's frame reached the guest"
assert_match "$(cat "$err")" "end=debug-exit code=1" "the guest ended with success; console: $(cat "$out")"
ip link show "$tap" >/dev/null 2>&1 && fail "the TAP outlived its VMM"
true

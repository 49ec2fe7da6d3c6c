#!/bin/bash
# make bench, VMM part: what starting a VM costs with vm/ (build/vm-smoke booting a tiny guest
# that ends through the debug-exit port) against QEMU's smallest machine (-M microvm, KVM, a PVH
# guest doing the same), side by side in one hyperfine run: wall time and peak RSS, as ratios.
# On this host /dev/kvm is PVM; the guests are a few instructions, so that does not matter.
# Usage: tests/bench/vmm.sh VM-SMOKE GUEST-DIR   (root)
set -euo pipefail
SMOKE=${1:?usage: vmm.sh VM-SMOKE GUEST-DIR}
GUESTS=${2:?usage: vmm.sh VM-SMOKE GUEST-DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -c /dev/kvm ] || { echo "vmm bench: no /dev/kvm, skipped"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -c "$here/pvh-exit.S" -o "$tmp/pvh.o"
ld -m elf_i386 -Ttext=0x100000 -e _start -o "$tmp/pvh.elf" "$tmp/pvh.o"
QEMU="qemu-system-x86_64 -M microvm,x-option-roms=off,isa-serial=off,rtc=off -accel kvm -cpu host -m 64 \
-nodefaults -no-user-config -display none -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel $tmp/pvh.elf"
CTR="$SMOKE $GUESTS/zeropage.bin"
# Sanity: both end through the debug-exit port (QEMU exits (42 << 1) | 1 = 85).
rc=0; $QEMU || rc=$?; [ $rc = 85 ] || { echo "vmm bench: qemu microvm exited $rc, not 85"; exit 1; }
$CTR 2>&1 | grep -q "end=debug-exit" || { echo "vmm bench: vm-smoke did not end through debug-exit"; exit 1; }
hyperfine -N -w 3 -r 30 -i --export-json "$tmp/h.json" -n "ctr vm/ (vm-smoke)" "$CTR" -n "qemu -M microvm" "$QEMU" >&2
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
r_ctr=$(rss $CTR); r_q=$(rss $QEMU || true)
python3 - "$tmp/h.json" "$r_ctr" "$r_q" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, q = r["ctr vm/ (vm-smoke)"]["median"] * 1e3, r["qemu -M microvm"]["median"] * 1e3
rc, rq = int(sys.argv[2]), int(sys.argv[3])
print(f"VM start to guest exit (median of 30): ctr vm/ {c:.1f} ms, qemu microvm {q:.1f} ms, ratio {c / q:.2f}x; "
      f"peak RSS {rc / 1024:.1f} MB vs {rq / 1024:.1f} MB, ratio {rc / rq:.2f}x")
PY

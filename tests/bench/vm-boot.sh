#!/bin/bash
# make bench, VM mode: start-to-guest-init and start-to-exec of a busybox `ctr create --vm`
# container against qemu-system-x86_64 -M microvm booting the same kernel, the same initramfs
# (ctr-vminit and the kernel's modules, written by vm-smoke --write-initramfs) and a copy of the
# same disk, side by side in one run, alternating; and the resident memory of each VMM process
# without its guest's RAM. On a host with hardware KVM it runs here; on a kvm_pvm host (no stock
# kernel boots there) inside the nested lane: QEMU TCG with kvm_amd loaded in the guest.
# Usage: tests/bench/vm-boot.sh PATH-TO-CTR PATH-TO-VM-SMOKE [RUNS]   (root)
. "$(dirname "$0")/vm-lib.sh" "$@"
command -v qemu-system-x86_64 >/dev/null || { echo "vm-boot bench: no qemu-system-x86_64, skipped"; exit 0; }

root=$(mktemp -d /tmp/ctr-bench-vm.XXXXXX)
n=benchvm$$
trap '"$CTR" --root "$root" destroy --force "$n" >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
"$CTR" --root "$root" -q create "$n" -t busybox --vm --net none --vm-memory 256M
bench_vm_guest vm-boot "$SMOKE" "$root" "$n"

python3 - "$CTR" "$root" "$n" "$bz" "$RUNS" <<'PY'
import json, os, select, shutil, socket, struct, subprocess, sys, time

ctr, root, name, kernel, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
MEM = 256 << 20
MARK = b"busybox init up"
CMDLINE = "console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet"
log = f"{root}/log/{name}.log"

def rss_without_guest(pid):
    """kB resident in pid's mappings, minus every mapping at least as large as the guest's RAM."""
    total = guest = 0
    size = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                a, b = head.split("-")
                size = int(b, 16) - int(a, 16)
            elif head == "Rss:":
                kb = int(line.split()[1])
                total += kb
                if size >= MEM:
                    guest += kb
    return total - guest

def ctr_run():
    if os.path.exists(log):
        os.unlink(log)
    t0 = time.monotonic()
    subprocess.run([ctr, "--root", root, "start", name], check=True)
    t_init = None
    while time.monotonic() - t0 < 300:
        try:
            if MARK in open(log, "rb").read():
                t_init = time.monotonic() - t0
                break
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    if t_init is None:
        raise SystemExit("vm-boot bench: ctr's guest never reached init")
    t_exec = None
    while time.monotonic() - t0 < 300:
        r = subprocess.run([ctr, "--root", root, "exec", name, "--", "/bin/true"], stderr=subprocess.PIPE)
        if r.returncode == 0:
            t_exec = time.monotonic() - t0
            break
        if b"not running" in r.stderr or b"VM" not in r.stderr and b"agent" not in r.stderr:
            break  # exec into VMs is not there, or failed for good: no row
        time.sleep(0.05)
    info = json.loads(subprocess.run([ctr, "--root", root, "info", name, "--format", "json"], check=True,
                                     stdout=subprocess.PIPE).stdout)
    pid, mon = info.get("pid"), info.get("monitor_pid")
    rss = rss_without_guest(pid) if pid else None
    mrss = rss_without_guest(mon) if mon else None
    subprocess.run([ctr, "--root", root, "stop", name, "-t", "60"], check=True, stdout=subprocess.DEVNULL)
    return t_init, t_exec, rss, mrss

def frame(t, chan, payload):
    return struct.pack("<BBHI", t, chan, 0xC7A6, len(payload)) + payload

def qemu_run():
    disk = f"{root}/qemu-disk.img"
    shutil.copyfile(f"{root}/containers/{name}/disk.img", disk)
    sock = f"{root}/agent.sock"
    if os.path.exists(sock):
        os.unlink(sock)
    argv = ["qemu-system-x86_64", "-M", "microvm,pcie=on,rtc=on", "-accel", "kvm", "-cpu", "host", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-kernel", kernel, "-initrd", f"{root}/initrd", "-append", CMDLINE,
            "-drive", f"id=d,file={disk},format=raw,if=none", "-device", "virtio-blk-pci,drive=d",
            "-device", "virtio-serial-pci", "-chardev", f"socket,id=ag,path={sock},server=on,wait=off",
            "-device", "virtconsole,chardev=ag"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    t_init = t_exec = None
    agent = None
    buf = b""
    ready = sent = False
    try:
        while time.monotonic() - t0 < 300 and t_exec is None:
            if agent is None and os.path.exists(sock):
                agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                agent.connect(sock)
            fds = [p.stdout] + ([agent] if agent else [])
            r, _, _ = select.select(fds, [], [], 0.05)
            if p.stdout in r:
                d = os.read(p.stdout.fileno(), 65536)
                if not d:
                    break
                out += d
                if t_init is None and MARK in out:
                    t_init = time.monotonic() - t0
            if agent in r:
                d = agent.recv(65536)
                if not d:
                    break
                buf += d
                while len(buf) >= 8:
                    t, chan, magic, n = struct.unpack("<BBHI", buf[:8])
                    if len(buf) < 8 + n:
                        break
                    buf = buf[8 + n:]
                    if t == 64:
                        ready = True
                    elif t == 68 and chan == 1:
                        t_exec = time.monotonic() - t0
            if ready and t_init is not None and not sent:
                # EXEC: flags, rows, cols, uid, gid, then cwd, argv..., "", env..., "" (vm/agent.h)
                pl = struct.pack("<IHHII", 0, 0, 0, 0, 0) + b"\0" + b"/bin/true\0" + b"\0" + b"PATH=/bin:/sbin\0" + b"\0"
                agent.sendall(frame(1, 1, pl))
                sent = True
        if t_init is None:
            raise SystemExit("vm-boot bench: qemu's guest never reached init: " +
                             (out[-800:] + p.stderr.read1(2000) if p.poll() is not None else out[-800:]).decode(errors="replace"))
        rss = rss_without_guest(p.pid)
    finally:
        p.kill()
        p.wait()
        if agent:
            agent.close()
    return t_init, t_exec, rss

res = {"ctr": [], "qemu": []}
ctr_run()  # warm: page cache, the kernel's first read
for i in range(runs):
    res["ctr"].append(ctr_run())
    res["qemu"].append(qemu_run())

def med(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else None

ci, ce = med(r[0] for r in res["ctr"]), med(r[1] for r in res["ctr"])
qi, qe = med(r[0] for r in res["qemu"]), med(r[1] for r in res["qemu"])
cr, mr, qr = med(r[2] for r in res["ctr"]), med(r[3] for r in res["ctr"]), med(r[2] for r in res["qemu"])
lane = " (nested lane: QEMU TCG, kvm_amd)" if os.environ.get("CTR_BENCH_IN_VM") == "1" else ""
print(f"VM start to guest init{lane}, median of {runs}: ctr --vm {ci * 1e3:.0f} ms, qemu microvm {qi * 1e3:.0f} ms, "
      f"ratio {ci / qi:.2f}x")
if ce is not None and qe is not None:
    print(f"VM start to exec done{lane}, median of {runs}: ctr --vm {ce * 1e3:.0f} ms, qemu microvm + agent "
          f"{qe * 1e3:.0f} ms, ratio {ce / qe:.2f}x")
else:
    print(f"VM start to exec: ctr {'n/a' if ce is None else f'{ce*1e3:.0f} ms'}, qemu "
          f"{'n/a' if qe is None else f'{qe*1e3:.0f} ms'} (no row)")
print(f"VMM resident memory without guest RAM: ctr vm/ {cr / 1024:.1f} MiB (its monitor {mr / 1024:.1f} MiB), "
      f"qemu microvm {qr / 1024:.1f} MiB, ratio {cr / qr:.2f}x")
PY

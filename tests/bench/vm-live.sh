#!/bin/bash
# make bench, live VM snapshots: `ctr snapshot --live` and `ctr restore --live` of a busybox --vm
# container with 256 MiB of RAM (the time each command takes, how long the vCPUs stood still, and
# restore to the first exec answered), against QEMU saving the same guest (-M microvm, the same
# kernel, initramfs and a copy of the disk) with `migrate` to a file and loading it with
# -incoming, the closest QEMU has to a snapshot of a raw-disk VM (savevm needs qcow2). On a
# kvm_pvm host it runs inside the nested lane, as vm-boot.sh does.
# Usage: tests/bench/vm-live.sh PATH-TO-CTR PATH-TO-VM-SMOKE [RUNS]   (root)
. "$(dirname "$0")/vm-lib.sh" "$@"

root=$(mktemp -d /var/tmp/ctr-bench-live.XXXXXX)
n=benchlive$$
trap '"$CTR" --root "$root" destroy --force "$n" >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
"$CTR" --root "$root" -q create "$n" -t busybox --vm --net none --vm-memory 256M
bench_vm_guest vm-live "$SMOKE" "$root" "$n"

python3 - "$CTR" "$root" "$n" "$bz" "$RUNS" <<'PY'
import json, os, re, shutil, socket, subprocess, sys, time

ctr, root, name, kernel, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
MARK = b"busybox init up"
CMDLINE = "console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet"

def c(*args, **kw):
    return subprocess.run([ctr, "--root", root, *args], check=True, stdout=subprocess.PIPE, **kw).stdout.decode()

def wait_exec(t0):
    while time.monotonic() - t0 < 300:
        if subprocess.run([ctr, "--root", root, "exec", name, "--", "/bin/true"], stderr=subprocess.DEVNULL).returncode == 0:
            return time.monotonic() - t0
        time.sleep(0.02)
    raise SystemExit("vm-live bench: the guest's agent never answered")

def ctr_round(i):
    t0 = time.monotonic()
    out = c("snapshot", "--live", name, f"b{i}")
    t_snap = time.monotonic() - t0
    paused = int(re.search(r"paused (\d+) ms", out).group(1))
    c("stop", name, "-t", "60")
    t0 = time.monotonic()
    c("restore", "--live", "--no-backup", name, f"b{i}")
    t_restore = time.monotonic() - t0
    t_exec = wait_exec(t0)
    return t_snap, paused, t_restore, t_exec

class Qmp:
    def __init__(self, path):
        for _ in range(3000):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        self.f = self.s.makefile("rb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, what, **args):
        self.s.sendall(json.dumps({"execute": what, "arguments": args}).encode() + b"\n")
        while True:
            m = json.loads(self.f.readline())
            if "return" in m or "error" in m:
                return m

def qemu(disk, qmp, extra):
    argv = ["qemu-system-x86_64", "-M", "microvm,pcie=on,rtc=on", "-accel", "kvm", "-cpu", "host", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-kernel", kernel, "-initrd", f"{root}/initrd", "-append", CMDLINE,
            "-drive", f"id=d,file={disk},format=raw,if=none", "-device", "virtio-blk-pci,drive=d",
            "-device", "virtio-serial-pci", "-chardev", f"socket,id=ag,path={qmp}.agent,server=on,wait=off",
            "-device", "virtconsole,chardev=ag", "-qmp", f"unix:{qmp},server=on,wait=off", *extra]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

def qemu_round(i):
    disk, qmp, state = f"{root}/q-disk.img", f"{root}/q.qmp", f"{root}/q-state"
    shutil.copyfile(f"{root}/containers/{name}/disk.img", disk)
    for f in (qmp, qmp + ".agent", state):
        if os.path.exists(f):
            os.unlink(f)
    p = qemu(disk, qmp, [])
    try:
        out, t0 = b"", time.monotonic()
        while MARK not in out and time.monotonic() - t0 < 300:
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                raise SystemExit("vm-live bench: qemu's guest ended before init")
            out += d
        q = Qmp(qmp)
        t0 = time.monotonic()
        q.cmd("migrate", uri=f"exec:cat > {state}")
        while True:
            m = q.cmd("query-migrate")["return"]
            if m.get("status") in ("completed", "failed"):
                break
            time.sleep(0.005)
        t_save = time.monotonic() - t0
        if m["status"] != "completed":
            raise SystemExit(f"vm-live bench: qemu's migrate to a file failed: {m}")
        down = m.get("downtime")
    finally:
        p.kill()
        p.wait()
    for f in (qmp, qmp + ".agent"):
        os.unlink(f)
    t0 = time.monotonic()
    p = qemu(disk, qmp, ["-incoming", f"exec:cat {state}"])
    try:
        q = Qmp(qmp)
        while q.cmd("query-status")["return"].get("status") != "running" and time.monotonic() - t0 < 300:
            time.sleep(0.002)
        t_load = time.monotonic() - t0
    finally:
        p.kill()
        p.wait()
    return t_save, down, t_load

c("start", name)
wait_exec(time.monotonic())  # the agent answers once the guest's userspace runs
res = {"ctr": [], "qemu": []}
have_qemu = shutil.which("qemu-system-x86_64") is not None
def med(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else None

for i in range(runs):
    res["ctr"].append(ctr_round(i))
    c("snapshot", "delete", name, f"b{i}")
cs, cp, cr, ce = (med(r[k] for r in res["ctr"]) for k in range(4))
lane = " (nested lane: QEMU TCG, kvm_amd)" if os.environ.get("CTR_BENCH_IN_VM") == "1" else ""
print(f"live snapshot of a 256 MiB VM{lane}, median of {runs}: ctr snapshot --live {cs * 1e3:.0f} ms "
      f"(vCPUs paused {cp} ms); ctr restore --live {cr * 1e3:.0f} ms, to the first exec {ce * 1e3:.0f} ms", flush=True)
c("stop", name, "-t", "60")
for i in range(runs if have_qemu else 0):
    res["qemu"].append(qemu_round(i))
if res["qemu"]:
    qs, qd, ql = (med(r[k] for r in res["qemu"]) for k in range(3))
    print(f"qemu microvm, same guest: migrate to a file {qs * 1e3:.0f} ms (downtime {qd} ms), "
          f"-incoming from it to running {ql * 1e3:.0f} ms; ratios ctr/qemu: save {cs / qs:.2f}x, "
          f"restore {cr / ql:.2f}x")
else:
    print("qemu: no qemu-system-x86_64, no comparison row")
PY

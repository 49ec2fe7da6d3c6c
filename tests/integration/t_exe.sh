# The CVE-2019-5736 defence in both of its forms: ctr re-execs from a read-only bind mount of its
# own binary (the default), or from a sealed memfd copy (CTR_EXE_COPY=1, where the first is not
# to be had). An fd to /proc/PID/exe of ctr's processes, taken while they run (as a container's
# root could, through its /proc), must never become writable, even once no process executes the
# binary any more. It runs on a copy of ctr, so a broken defence could only damage the copy.
bindir=$T_ROOT/bin
mkdir -p "$bindir"
cp "$CTR" "$bindir/ctr"
cp -r "$(dirname "$CTR")/templates" "$bindir/templates"
for mode in robind copy; do
        n=$(cname "exe$mode")
        export CTR_EXE_COPY=
        [ "$mode" = copy ] && export CTR_EXE_COPY=1
        "$bindir/ctr" --root "$T_ROOT" create "$n" -t busybox -q --net none --no-userns || fail "create"
        "$bindir/ctr" --root "$T_ROOT" start "$n" || fail "start"
        python3 - "$bindir/ctr" "$T_ROOT" "$n" "$mode" <<'PY' || fail "$mode: the binary could be written through /proc/PID/exe"
import errno, os, subprocess, sys, time
ctr, root, name, mode = sys.argv[1:]
mon = None
p = subprocess.Popen([ctr, "--root", root, "exec", name, "--", "sleep", "1"])
# The exec process: ctr itself until its command runs; the fd outlives it.
time.sleep(0.2)
fds = [os.open(f"/proc/{p.pid}/exe", os.O_PATH)]
info = subprocess.run([ctr, "--root", root, "info", name, "--format", "json"], capture_output=True, text=True).stdout
import json
fds.append(os.open(f"/proc/{json.loads(info)['monitor_pid']}/exe", os.O_PATH))
p.wait()
subprocess.run([ctr, "--root", root, "stop", name, "--kill"], check=True)
subprocess.run([ctr, "--root", root, "destroy", name], check=True)
time.sleep(0.2)
for fd in fds:
    try:
        w = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY)
    except OSError as e:
        if mode == "robind" and e.errno == errno.EROFS:
            continue
        if mode == "copy" and e.errno in (errno.EPERM, errno.EACCES):
            continue
        print(f"{mode}: opening for writing failed with {e}, not the defence's error", file=sys.stderr)
        sys.exit(1)
    try:
        os.write(w, b"X")
    except OSError as e:
        if mode == "copy" and e.errno == errno.EPERM:
            continue  # sealed against writes
        print(f"{mode}: write failed with {e}", file=sys.stderr)
        sys.exit(1)
    print(f"{mode}: wrote into the binary", file=sys.stderr)
    sys.exit(1)
PY
done
unset CTR_EXE_COPY
cmp -s "$CTR" "$bindir/ctr" || fail "the copy of the binary changed"
# Many starts at once never fail on the defence itself (the memfd copy used to fail with EBUSY
# under load when sealing).
for mode in robind copy; do
        export CTR_EXE_COPY=
        [ "$mode" = copy ] && export CTR_EXE_COPY=1
        seq 40 | xargs -P 8 -I{} "$bindir/ctr" --root "$T_ROOT" run --rm -t busybox --net none -- true 2>"$T_ROOT/runs.err" ||
                fail "$mode: a run failed: $(sort -u "$T_ROOT/runs.err" | head -3)"
done
unset CTR_EXE_COPY

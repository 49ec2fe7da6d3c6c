# The OCI runtime command line on a generated bundle (busybox and the probe in a rootfs, config
# from `ctr oci spec`): create/start/state/kill/delete with the states in between, exec with
# exit status, run, pause/resume, ps, list, hooks with the state on stdin, a console socket,
# the pid file, the ctr-oci name, and bad input (exit 125, one line, nothing left).
oroot=$T_ROOT/oci
O() { "$CTR" oci --root "$oroot" "$@"; }
b=$T_ROOT/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/tmp" "$b/rootfs/etc"
cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
for a in sh sleep cat echo hostname id ls true; do ln -s busybox "$b/rootfs/bin/$a"; done
install -m 0755 "$PROBE" "$b/rootfs/bin/ctr-probe"
(cd "$b" && O spec) || fail "ctr oci spec"
expect_125 "spec over an existing config" sh -c "cd '$b' && '$CTR' oci spec" >/dev/null
# set_config PYTHON-STATEMENTS-ON-c
set_config() {
        python3 - "$b/config.json" "$1" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
exec(sys.argv[2])
json.dump(c, open(p, "w"), indent=1)
EOF
}
set_config 'c["process"]["terminal"] = False; c["process"]["args"] = ["sleep", "100"]; c["hostname"] = "ocibox"
c["linux"]["resources"] = {"pids": {"limit": 77}, "cpu": {"shares": 512}}'
id=$(cname oci)
cg_rel=ctr.slice/oci-$id
cg=$(ls -d /sys/fs/cgroup/unified 2>/dev/null || echo /sys/fs/cgroup)/$cg_rel

state() { O state "$1" | json_field 'd["status"]'; }
O create --bundle "$b" --pid-file "$T_ROOT/pid" "$id"
assert_eq "$(state "$id")" created "after create"
pid=$(cat "$T_ROOT/pid")
assert_eq "$(O state "$id" | json_field 'd["pid"]')" "$pid" "state pid = pid file"
assert_eq "$(O state "$id" | json_field 'd["bundle"]')" "$b" "state bundle"
[ -d "$cg" ] || fail "no cgroup $cg"
grep -qx "$pid" "$cg/cgroup.procs" || fail "the process is not in $cg"
# On a hybrid host the limits are applied in the v1 controllers too, where engines read them.
v1=/sys/fs/cgroup/pids/$cg_rel
if [ -d /sys/fs/cgroup/pids ] && [ "$(stat -fc %T /sys/fs/cgroup/pids)" = cgroupfs ]; then
        assert_eq "$(cat "$v1/pids.max")" 77 "v1 pids.max"
        grep -qx "$pid" "$v1/cgroup.procs" || fail "the process is not in $v1"
        assert_eq "$(cat /sys/fs/cgroup/cpu/$cg_rel/cpu.shares)" 512 "v1 cpu.shares"
fi
O start "$id"
assert_eq "$(state "$id")" running "after start"
expect_125 "start twice" O start "$id" | grep -q "not created" || fail "start twice message"
assert_eq "$(O exec "$id" hostname)" ocibox "exec sees the hostname"
assert_eq "$(O exec "$id" ctr-probe nonewprivs pidns | head -1)" "nonewprivs=1" "noNewPrivileges"
st=0
O exec "$id" sh -c 'exit 7' || st=$?
assert_eq "$st" 7 "exec's exit status"
st=0
O exec "$id" no-such-program 2>/dev/null || st=$?
assert_eq "$st" 127 "exec of a missing program"
assert_eq "$(O exec --cwd /tmp --env FOO=bar "$id" sh -c 'echo $PWD $FOO')" "/tmp bar" "exec --cwd --env"
assert_eq "$(O exec --user 65534:65534 "$id" id -u)" 65534 "exec --user"
echo '{"args": ["sh", "-c", "echo from-process-file"], "cwd": "/", "env": ["PATH=/bin"]}' > "$T_ROOT/proc.json"
assert_eq "$(O exec --process "$T_ROOT/proc.json" "$id")" from-process-file "exec --process"
O exec --detach --pid-file "$T_ROOT/epid" "$id" sleep 50
epid=$(cat "$T_ROOT/epid")
grep -qx "$epid" "$cg/cgroup.procs" || fail "the detached exec is not in the container's cgroup"
# ...and in every cgroup of init, the v1 hierarchies' included (pids, memory and cpu limits
# bind it): the same lines of /proc/PID/cgroup, hierarchy for hierarchy.
assert_eq "$(sort "/proc/$epid/cgroup")" "$(sort "/proc/$pid/cgroup")" "the exec's cgroups are init's"
assert_match "$(O ps --format json "$id")" "$epid" "ps lists the exec"
O pause "$id"
assert_eq "$(state "$id")" paused "after pause"
O resume "$id"
assert_eq "$(state "$id")" running "after resume"
assert_match "$(O list)" "^$id +$pid +running" "list"
assert_eq "$(O list -q)" "$id" "list -q"
expect_125 "delete while running" O delete "$id" | grep -q "use --force" || fail "delete running message"
O kill "$id" KILL
for _ in $(seq 50); do [ "$(state "$id")" = stopped ] && break; sleep 0.1; done
assert_eq "$(state "$id")" stopped "after kill"
O delete "$id"
[ -d "$cg" ] && fail "cgroup $cg left after delete"
[ -d "$v1" ] && fail "v1 cgroup $v1 left after delete"
ls -d /sys/fs/cgroup/*/ctr.slice 2>/dev/null | grep -v unified && fail "a v1 ctr.slice left after delete"
expect_125 "state after delete" O state "$id" | grep -q "does not exist" || fail "state after delete message"

# run: the process's status comes back; signals as 128+N; nothing remains.
set_config 'c["process"]["args"] = ["sh", "-c", "exit 3"]; c["linux"].pop("resources")'
st=0
O run --bundle "$b" "$id" || st=$?
assert_eq "$st" 3 "run's exit status"
assert_eq "$(O list -q)" "" "run leaves nothing in list"
set_config 'c["process"]["args"] = ["sleep", "100"]'
O run --bundle "$b" "$id" &
runner=$!
for _ in $(seq 50); do [ "$(O state "$id" 2>/dev/null | json_field 'd["status"]' 2>/dev/null)" = running ] && break; sleep 0.1; done
O kill "$id" KILL
st=0
wait "$runner" || st=$?
assert_eq "$st" 137 "a process killed by SIGKILL gives 128+9"

# Hooks get the state on stdin, in order; poststop runs at delete.
set_config '
c["process"]["args"] = ["sleep", "100"]
log = sys.argv[1].rsplit("/", 1)[0] + "/hooks.log"
def hook(name): return {"path": "/bin/sh", "args": ["sh", "-c", "(printf \"%s \"; cat; echo) >> %s" % (name, log)]}
c["hooks"] = {k: [hook(k)] for k in ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]}'
O create --bundle "$b" "$id"
O start "$id"
O delete --force "$id"
python3 - "$b/hooks.log" "$id" <<'EOF' || fail "hooks: $(cat "$b/hooks.log")"
import json, sys
text = open(sys.argv[1]).read()
names, states = [], []
for line in text.split("\n"):
    if not line.strip():
        continue
    name, doc = line.split(" ", 1)
    names.append(name)
    states.append(json.loads(doc))
# createRuntime and createContainer at create; prestart at start (runtime-spec 1.0's
# config.md, as runtime-tools checks), before the program runs.
assert names == ["createRuntime", "createContainer", "prestart", "poststart", "poststop"], names
assert all(s["id"] == sys.argv[2] and s["ociVersion"] for s in states), states
assert [s["status"] for s in states] == ["creating", "creating", "created", "running", "stopped"], states
assert states[0]["pid"] > 0 and states[0]["pid"] == states[3]["pid"], states
EOF
set_config 'c.pop("hooks")'

# A failing createRuntime hook fails create and leaves nothing.
set_config 'c["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}'
expect_125 "a failing hook" O create --bundle "$b" "$id" | grep -q "createRuntime hook" || fail "hook failure message"
assert_eq "$(O list -q)" "" "a failed create leaves nothing"
[ -d "$cg" ] && fail "cgroup left by a failed create"
set_config 'c.pop("hooks")'

# A terminal: the pty master arrives on the console socket; the process has it as stdio.
set_config 'c["process"]["terminal"] = True; c["process"]["args"] = ["sh", "-c", "tty; sleep 100"]'
python3 - "$T_ROOT/console.sock" "$T_ROOT/console.out" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1, 1)
out = b""
while b"\n" not in out:
    out += os.read(fds[0], 100)
open(sys.argv[2], "wb").write(out)
EOF
srv=$!
for _ in $(seq 50); do [ -S "$T_ROOT/console.sock" ] && break; sleep 0.05; done
O create --bundle "$b" --console-socket "$T_ROOT/console.sock" "$id"
O start "$id"
wait "$srv" || fail "the console socket server failed"
assert_match "$(cat "$T_ROOT/console.out")" '^/dev/(pts/[0-9]+|console)' "the process's stdio is the pty"
O delete --force "$id"

# Without a mount namespace the container shares ours: chroot instead of pivot_root, and its
# mounts (made in our namespace, as the spec says) go at delete; the runner checks the count.
set_config 'c["process"]["terminal"] = False; c["process"]["args"] = ["sh", "-c", "ls /proc/1 >/dev/null && echo shared"]
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]'
assert_eq "$(O run --bundle "$b" "$id")" shared "run without a mount namespace"
grep -q " $b/rootfs" /proc/self/mountinfo && fail "mounts left under the rootfs: $(grep " $b/rootfs" /proc/self/mountinfo)"
set_config 'c["linux"]["namespaces"].append({"type": "mount"})'

# The ctr-oci name, as engines call it.
ln -s "$CTR" "$T_ROOT/ctr-oci"
set_config 'c["process"]["terminal"] = False; c["process"]["args"] = ["true"]'
"$T_ROOT/ctr-oci" --root "$oroot" --log "$T_ROOT/oci.log" --log-format json run --bundle "$b" "$id" || fail "ctr-oci run"

# Bad input: one line, 125, nothing created.
expect_125 "bad id" O create --bundle "$b" "a/b" | grep -q "not a valid container ID" || fail "bad id message"
expect_125 "missing container" O state nosuch >/dev/null
set_config 'c["process"]["args"] = []'
expect_125 "empty args" O create --bundle "$b" "$id" | grep -q "process.args" || fail "empty args message"
expect_125 "bad json" "$T_ROOT/ctr-oci" --root "$oroot" --log "$T_ROOT/oci.log" --log-format json create \
        --bundle /nonexistent "$id" >/dev/null
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]; assert "nonexistent" in open(sys.argv[1]).read()' \
        "$T_ROOT/oci.log" || fail "--log-format json wrote: $(cat "$T_ROOT/oci.log")"
expect_125 "unknown verb" O frobnicate >/dev/null
assert_eq "$(O list -q)" "" "nothing left"
[ -z "$(ls -A "$oroot")" ] || fail "state left: $(ls -A "$oroot")"

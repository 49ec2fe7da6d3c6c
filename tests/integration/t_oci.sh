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
# ps's table is ps(1)'s, cut to the container (containerd's Top parses it).
assert_match "$(O ps "$id" | head -1)" "PID" "ps table header"
assert_match "$(O ps "$id" | awk 'NR > 1 {print $2}' | tr '\n' ' ')" "(^| )$pid " "ps table lists init"

# update (the shims' UpdateContainerResources): a document on stdin, then runc's flags.
if [ -d /sys/fs/cgroup/pids ] && [ "$(stat -fc %T /sys/fs/cgroup/pids)" = cgroupfs ]; then
        mem=/sys/fs/cgroup/memory/$cg_rel pids_max=$v1/pids.max shares=/sys/fs/cgroup/cpu/$cg_rel/cpu.shares
        quota=/sys/fs/cgroup/cpu/$cg_rel/cpu.cfs_quota_us mem_max=$mem/memory.limit_in_bytes
else
        pids_max=$cg/pids.max shares=$cg/cpu.weight quota=$cg/cpu.max mem_max=$cg/memory.max
fi
echo '{"memory": {"limit": 268435456, "reservation": 134217728}, "cpu": {"shares": 256, "quota": 50000, "period": 100000},
       "pids": {"limit": 33}, "blockIO": {"weight": 300}}' | O update --resources - "$id" || fail "update --resources -"
assert_eq "$(cat "$pids_max")" 33 "pids limit after update"
assert_eq "$(cat "$mem_max")" 268435456 "memory limit after update"
assert_match "$(cat "$quota")" "^50000" "cpu quota after update"
assert_match "$(cat "$shares")" "^(256|98)$" "cpu shares after update"
O update --pids-limit 44 --memory 128M "$id" || fail "update with runc's flags"
assert_eq "$(cat "$pids_max")" 44 "pids limit after update --pids-limit"
assert_eq "$(cat "$mem_max")" 134217728 "memory limit after update --memory"
O update --pids-limit -1 --memory -1 "$id" || fail "update to unlimited"
assert_eq "$(cat "$pids_max")" max "pids limit lifted"
expect_125 "update with a bad document" sh -c "echo '{\"pids\": {\"limit\": \"x\"}}' | '$CTR' oci --root '$oroot' update -r - '$id'" |
        grep -q "pids.limit" || fail "update's message names the field"
expect_125 "update with a bad size" O update --memory lots "$id" | grep -q -- "--memory" || fail "update flag message"

O kill "$id" KILL
for _ in $(seq 50); do [ "$(state "$id")" = stopped ] && break; sleep 0.1; done
assert_eq "$(state "$id")" stopped "after kill"
assert_eq "$(O state "$id" | json_field 'd["pid"]')" 0 "a stopped container's pid"
# After the exit, as runc answers (containerd's shim and CRI-O match these texts): kill says
# "container not running", kill --all succeeds, update refuses.
expect_125 "kill after exit" O kill "$id" 9 | grep -q "container not running" || fail "kill after exit message"
O kill --all "$id" 9 || fail "kill --all after exit"
O kill -a "$id" KILL || fail "kill -a after exit (CRI-O's spelling)"
expect_125 "update after exit" O update --pids-limit 5 "$id" | grep -q "container not running" ||
        fail "update after exit message"
O delete "$id"
# Gone: "container does not exist" (containerd's shim matches "does not exist"); delete
# --force succeeds, as runc's does.
expect_125 "kill after delete" O kill "$id" 9 | grep -q "container does not exist" || fail "kill after delete message"
expect_125 "delete after delete" O delete "$id" | grep -q "container does not exist" || fail "delete twice message"
O delete --force "$id" || fail "delete --force of a container that does not exist"
# A created container is deleted without --force (the runc shim deletes a never-started task so).
O create --bundle "$b" "$id"
O kill --all "$id" 0 || fail "kill --all of a created container"
O delete "$id" || fail "delete of a created container"
[ -d "$cg" ] && fail "cgroup $cg left after delete"
[ -d "$v1" ] && fail "v1 cgroup $v1 left after delete"
# An empty v1 ctr.slice is ours to remove; one holding another run's containers is not.
for d in /sys/fs/cgroup/*/ctr.slice; do
        [ -d "$d" ] && [ "${d#*/unified/}" = "$d" ] && [ -z "$(find "$d" -mindepth 1 -maxdepth 1 -type d)" ] &&
                fail "an empty v1 ctr.slice left after delete: $d"
done
ls -d /sys/fs/cgroup/*/"$cg_rel" 2>/dev/null && fail "a cgroup of $id left after delete"
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
# console_server: takes the pty master from the console socket and keeps its first line.
console_server() {
        rm -f "$T_ROOT/console.sock" "$T_ROOT/console.out"
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
}
console_server
O create --bundle "$b" --console-socket "$T_ROOT/console.sock" "$id"
O start "$id"
wait "$srv" || fail "the console socket server failed"
assert_match "$(cat "$T_ROOT/console.out")" '^/dev/(pts/[0-9]+|console)' "the process's stdio is the pty"
O delete --force "$id"

# What create had to change is a warning on ctr's stderr (and --log), not a line in the
# container's pty: in a user namespace a hard rlimit above this host's cannot be raised.
hard=$(ulimit -Hn)
set_config 'c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": '"$((hard + 1))"', "soft": 1024}]'
console_server
warn=$(O --log "$T_ROOT/warn.log" create --bundle "$b" --console-socket "$T_ROOT/console.sock" "$id" 2>&1) || fail "create: $warn"
O start "$id"
wait "$srv" || fail "the console socket server failed"
assert_match "$warn" "^ctr: warning: $id: rlimit 7: hard limit $((hard + 1)) above this host's $hard, capped$" "the warning on stderr"
grep -q "level=warning msg=\"$id: rlimit 7" "$T_ROOT/warn.log" || fail "no warning in --log: $(cat "$T_ROOT/warn.log")"
assert_match "$(cat "$T_ROOT/console.out")" '^/dev/(pts/[0-9]+|console)' "the pty has the process's output, no warning"
O delete --force "$id"
set_config 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "user"]
c["linux"].pop("uidMappings"); c["linux"].pop("gidMappings"); c["process"].pop("rlimits")'

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

# Ambient capabilities (runc spec's default has them): raised, so also permitted and inheritable.
set_config 'c["process"]["args"] = ["sh", "-c", "grep -E \"^Cap(Amb|Inh|Prm)\" /proc/self/status"]
c["process"]["user"] = {"uid": 65534, "gid": 65534}
c["process"]["capabilities"] = {k: ["CAP_KILL", "CAP_NET_BIND_SERVICE"] for k in ["bounding", "effective", "permitted", "ambient"]}'
out=$(O run --bundle "$b" "$id") || fail "run with ambient capabilities: $out"
for f in CapAmb CapInh CapPrm; do
        assert_eq "$(printf '%s\n' "$out" | awk -v f="$f:" '$1 == f {print $2}')" 0000000000000420 "$f with ambient KILL+NET_BIND_SERVICE"
done
set_config 'c["process"].pop("user"); c["process"].pop("capabilities")'

# Under another name: a name starting with ctr-oci is the OCI command line (an engine's
# BinaryName=/path/ctr-oci-test); any other name that gets runc's words says so in one line.
ln -s "$CTR" "$T_ROOT/ctr-oci-test"
"$T_ROOT/ctr-oci-test" --root "$oroot" --log "$T_ROOT/oci.log" --log-format json run --bundle "$b" "$id" ||
        fail "ctr-oci-test run"
ln -s "$CTR" "$T_ROOT/notoci"
expect_125 "runc's options to another name" "$T_ROOT/notoci" --root "$oroot" --log "$T_ROOT/x.log" create x |
        grep -q "ctr-oci" || fail "another name's message"
expect_125 "an OCI verb to another name" "$T_ROOT/notoci" update x | grep -q "ctr-oci" || fail "another name's verb message"
assert_eq "$(O --version | wc -l)" 3 "--version: runc's three lines (go-runc parses them)"
assert_match "$(O --version | sed -n 2p)" "^commit: " "--version's commit line"

# features: the runtime-spec document, complete.
O features | python3 -c '
import json, sys
f = json.load(sys.stdin)
lx = f["linux"]
assert f["ociVersionMin"] and f["ociVersionMax"], f
assert "poststop" in f["hooks"] and "rbind" in f["mountOptions"], f
assert lx["cgroup"]["v1"] and lx["cgroup"]["v2"], lx["cgroup"]
assert "CAP_SYS_ADMIN" in lx["capabilities"] and "CAP_KILL" in lx["capabilities"], lx.get("capabilities")
assert "SCMP_CMP_MASKED_EQ" in lx["seccomp"]["operators"], lx["seccomp"]
assert "SECCOMP_FILTER_FLAG_LOG" in lx["seccomp"]["supportedFlags"], lx["seccomp"]
assert "time" not in lx["namespaces"], lx["namespaces"]
' || fail "features: $(O features)"

# Bad input: one line, 125, nothing created.
expect_125 "bad id" O create --bundle "$b" "a/b" | grep -q "not a valid container ID" || fail "bad id message"
expect_125 "missing container" O state nosuch >/dev/null
set_config 'c["process"]["args"] = []'
expect_125 "empty args" O create --bundle "$b" "$id" | grep -q "process.args" || fail "empty args message"
expect_125 "bad json" "$T_ROOT/ctr-oci" --root "$oroot" --log "$T_ROOT/oci.log" --log-format json create \
        --bundle /nonexistent "$id" >/dev/null
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]; assert "nonexistent" in open(sys.argv[1]).read()' \
        "$T_ROOT/oci.log" || fail "--log-format json wrote: $(cat "$T_ROOT/oci.log")"
expect_125 "unknown verb" O frobnicate | grep -q "(null)" && fail "an error line printed (null)"
assert_eq "$(O list -q)" "" "nothing left"
[ -z "$(ls -A "$oroot")" ] || fail "state left: $(ls -A "$oroot")"

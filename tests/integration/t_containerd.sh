# containerd (Debian's, with its runc shim v2) driving ctr-oci: a private containerd (own config,
# root, state, socket under T_ROOT, no CRI plugin, no CNI), an image made offline (busybox in one
# layer, an OCI archive written here), then with containerd's own client: a detached task, exec
# into it, kill with TERM -> the task exits, task delete and containers rm succeed, a kill of
# the exited task is clean, run --rm passes the exit status, and nothing is left (no shim, no
# cgroup in any hierarchy, no mount).
CTRD_CLIENT=/usr/bin/ctr # containerd's client, not ours
for b in containerd containerd-shim-runc-v2 "$CTRD_CLIENT"; do
        command -v "$b" >/dev/null || { echo "skipped: $b is not installed (make deps installs containerd)"; exit 0; }
done

R=$T_ROOT/cd
mkdir -p "$R/root" "$R/state" "$R/runc" "$R/opt"
sock=$R/c.sock
ns=$T_PREFIX
ln -s "$CTR" "$R/ctr-oci"
cat > "$R/config.toml" <<EOF
version = 2
root = "$R/root"
state = "$R/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$R/opt"
EOF
containerd --config "$R/config.toml" --log-level debug > "$R/containerd.log" 2>&1 &
cd_pid=$!
stop_containerd() {
        # After a failure: the tasks and their shims go first (by pid), then containerd.
        if [ "${1:-}" = failed ]; then
                for t in $(C task ls -q 2>/dev/null); do
                        C task kill -a -s KILL "$t" >/dev/null 2>&1
                        C task delete -f "$t" >/dev/null 2>&1
                done
                for c in $(C containers ls -q 2>/dev/null); do C containers rm "$c" >/dev/null 2>&1; done
                for p in $(pgrep -f -- "-address $sock"); do kill -9 "$p" 2>/dev/null; done
        fi
        kill "$cd_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$cd_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$cd_pid" 2>/dev/null || true
        wait "$cd_pid" 2>/dev/null || true
}
trap "stop_containerd failed" EXIT
C() { timeout 30 "$CTRD_CLIENT" -a "$sock" -n "$ns" "$@"; }
for _ in $(seq 100); do C version >/dev/null 2>&1 && break; sleep 0.1; done
C version >/dev/null || fail "containerd did not come up: $(tail -5 "$R/containerd.log")"

# The image: busybox and its links in one uncompressed layer, as an OCI archive.
img=docker.io/library/${ns}:1
mkdir -p "$R/layer/bin" "$R/layer/proc" "$R/layer/sys" "$R/layer/dev" "$R/layer/tmp" "$R/layer/etc"
cp "$(command -v busybox)" "$R/layer/bin/busybox"
for a in sh sleep cat echo true ls grep; do ln -s busybox "$R/layer/bin/$a"; done
python3 - "$R/layer" "$R/image.tar" "$img" <<'EOF' || fail "could not write the OCI archive"
import hashlib, io, json, sys, tarfile
layer_dir, out, name = sys.argv[1:]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    t.add(layer_dir, arcname=".")
layer = buf.getvalue()
def blob(data): return "sha256:" + hashlib.sha256(data).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [blob(layer)]}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob(layer), "size": len(layer)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": blob(manifest), "size": len(manifest), "platform": {"architecture": "amd64", "os": "linux"},
    "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "1"}}]}).encode()
with tarfile.open(out, "w") as t:
    def put(path, data):
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    put("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    put("index.json", index)
    for d in (layer, config, manifest):
        put("blobs/sha256/" + blob(d)[7:], d)
EOF
C images import "$R/image.tar" >/dev/null || fail "ctr images import"
C images ls -q | grep -qx "$img" || fail "the image is not listed: $(C images ls -q)"

R_OPTS="--runc-binary $R/ctr-oci --runc-root $R/runc --net-host"
id=$ns-task
# A detached task whose pid 1 leaves on TERM (a shell as pid 1 ignores signals it does not trap).
C run -d $R_OPTS "$img" "$id" sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' ||
        fail "ctr run -d: $(grep -i error "$R/containerd.log" | tail -3)"
assert_match "$(C task ls)" "^$id +[0-9]+ +RUNNING" "the task runs"
pid=$(C task ls | awk -v id="$id" '$1 == id {print $2}')
[ -n "$(ls -d /sys/fs/cgroup/*/"$ns/$id" 2>/dev/null)" ] || fail "no cgroup $ns/$id in any hierarchy"
assert_eq "$(C task exec --exec-id e1 "$id" echo hello)" hello "exec into the task"
st=0
C task exec --exec-id e2 "$id" sh -c 'exit 3' || st=$?
assert_eq "$st" 3 "exec's exit status through containerd"
assert_match "$(C task ps "$id")" "(^|[^0-9])$pid([^0-9]|$)" "task ps lists the task's pid (ps --format json)"
C task pause "$id" || fail "task pause"
assert_match "$(C task ls)" "^$id +[0-9]+ +PAUSED" "the task is paused"
C task resume "$id" || fail "task resume"

# kill (TERM): the task exits, and the shim's cleanup after the exit (kill --all ID 9) succeeds.
C task kill "$id" || fail "task kill"
for _ in $(seq 100); do C task ls | grep -Eq "^$id +[0-9]+ +STOPPED" && break; sleep 0.1; done
assert_match "$(C task ls)" "^$id +[0-9]+ +STOPPED" "the task stopped after TERM"
# Killing the exited task: containerd says it is gone (not found), never an unknown runtime error.
out=$(C task kill -s KILL "$id" 2>&1) || true
assert_no_match "$out" "unknown error|OCI runtime|ctr: kill" "kill of an exited task: $out"
out=$(C task kill -a -s KILL "$id" 2>&1) || true
assert_no_match "$out" "unknown error|OCI runtime|ctr: kill" "kill --all of an exited task: $out"
C task delete "$id" >/dev/null || fail "task delete: $(grep -i error "$R/containerd.log" | tail -3)"
C containers rm "$id" || fail "containers rm"
assert_no_match "$(C containers ls -q)" "^$id\$" "the container is gone"
grep -q "failed to kill init's children\|unknown error after kill" "$R/containerd.log" &&
        fail "the shim's cleanup failed: $(grep "failed to kill init's children\|unknown error after kill" "$R/containerd.log" | tail -2)"

# run --rm in the foreground: the exit status comes back, and the task and container go.
st=0
C run --rm $R_OPTS "$img" "$ns-rm" sh -c 'exit 5' || st=$?
assert_eq "$st" 5 "run --rm's exit status"
assert_eq "$(C containers ls -q)" "" "run --rm leaves no container"

# A task killed outright (SIGKILL), then deleted with --force while a second one still runs.
C run -d $R_OPTS "$img" "$ns-k" sleep 1000 || fail "ctr run -d (second)"
C task delete --force "$ns-k" >/dev/null || fail "task delete --force of a running task"
C containers rm "$ns-k" || fail "containers rm (second)"

# Nothing left: shims, the runtime's state, cgroups, mounts.
for _ in $(seq 50); do pgrep -f -- "-address $sock" >/dev/null || break; sleep 0.1; done
pgrep -af -- "-address $sock" && fail "a shim is left"
[ -z "$(ls -A "$R/runc/$ns" 2>/dev/null)" ] || fail "runtime state left: $(ls -A "$R/runc/$ns")"
left=$(ls -d /sys/fs/cgroup/*/"$ns" 2>/dev/null | while read -r d; do find "$d" -mindepth 1 -type d; done)
[ -z "$left" ] || fail "cgroups left: $left"
grep -q " $R/" /proc/self/mountinfo && fail "mounts left: $(grep " $R/" /proc/self/mountinfo)"
C images rm "$img" >/dev/null
stop_containerd
trap - EXIT
# The namespace's (now empty) cgroup parents, made for the absolute cgroupsPath /NS/ID, are the
# engine's hierarchy: the runtime removes only the leaf, as runc does; the test removes them.
for d in /sys/fs/cgroup/*/"$ns"; do [ -d "$d" ] && rmdir "$d"; done
grep -q " $R/" /proc/self/mountinfo && fail "mounts left after containerd stopped"
true

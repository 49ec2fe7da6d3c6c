# podman drives ctr as its OCI runtime (through conmon, the ctr-oci name, cgroupfs): a busybox
# rootfs imported with `podman import` runs, is exec'd into (status passed through, a tty),
# stops and is removed. podman's state lives under this test's root (vfs storage: no mounts).
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
        echo "skipped: podman and conmon are not installed"
        exit 0
fi
ln -s "$CTR" "$T_ROOT/ctr-oci"
pm=$T_ROOT/podman
P() {
        podman --root "$pm/root" --runroot "$pm/run" --storage-driver vfs --cgroup-manager cgroupfs \
                --events-backend file --runtime "$T_ROOT/ctr-oci" "$@"
}
cleanup_podman() {
        P rm -af >/dev/null 2>&1
        P rmi -af >/dev/null 2>&1
        # conmon's own cgroups (podman's, under its cgroupfs parent): empty ones go (rmdir
        # refuses the rest).
        for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -rf "$pm"
}
trap cleanup_podman EXIT

rfs=$T_ROOT/bb
mkdir -p "$rfs/bin" "$rfs/etc"
cp "$(command -v busybox)" "$rfs/bin/busybox"
for a in sh sleep cat echo hostname id ls ps true; do ln -s busybox "$rfs/bin/$a"; done
tar -C "$rfs" -cf "$T_ROOT/bb.tar" .
name=$(cname pm)
img=localhost/$name:latest
P import "$T_ROOT/bb.tar" "$img" >/dev/null || fail "podman import"

assert_eq "$(P run --rm --network none "$img" sh -c 'echo hello; id -u' 2>/dev/null)" "$(printf 'hello\n0')" "podman run --rm"
st=0
P run --rm --network none "$img" sh -c 'exit 3' 2>/dev/null || st=$?
assert_eq "$st" 3 "podman run passes the exit status through"

P run -d --name "$name" --network none "$img" sleep 1000 >/dev/null || fail "podman run -d"
assert_match "$(P ps --format '{{.Names}} {{.Status}}')" "^$name Up" "podman ps"
assert_eq "$(P exec "$name" sh -c 'echo in-$(hostname | cut -c1-3)' 2>/dev/null)" "in-$(P inspect -f '{{.ID}}' "$name" | cut -c1-3)" \
        "podman exec"
st=0
P exec "$name" sh -c 'exit 5' 2>/dev/null || st=$?
assert_eq "$st" 5 "podman exec status"
assert_match "$(P exec -t "$name" sh -c tty 2>/dev/null)" '^/dev/pts/[0-9]+' "podman exec -t gets a pty"
assert_match "$(P top "$name" pid args 2>/dev/null || P exec "$name" ps)" "sleep 1000" "the container's processes"
P stop -t 2 "$name" >/dev/null 2>&1 || fail "podman stop"
assert_match "$(P ps -a --format '{{.Names}} {{.Status}}')" "^$name Exited" "stopped"
P rm "$name" >/dev/null || fail "podman rm"
assert_eq "$(P ps -aq)" "" "nothing left in podman"

# Shared helpers for ctr's integration tests (sourced). Every test runs as root against a private
# --root, with unique container names, and the runner checks for leaks after each one.

: "${CTR:?set CTR to the ctr binary}"
: "${PROBE:?set PROBE to the static ctr-probe binary}"
: "${T_ROOT:?set by run.sh}"
: "${T_PREFIX:?set by run.sh}"

ctr() { "$CTR" --root "$T_ROOT" "$@"; }

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
        [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

assert_match() { # assert_match TEXT REGEX WHAT
        printf '%s' "$1" | grep -Eq -- "$2" || fail "$3: '$1' does not match /$2/"
}

assert_no_match() {
        if printf '%s' "$1" | grep -Eq -- "$2"; then fail "$3: '$1' matches /$2/"; fi
}

# The VM lane's kernel has no bridge/veth/nf_tables modules loaded: its tests use no network.
if [ "${CTR_VM:-}" = 1 ]; then T_MK_ARGS="--net none"; fi

# Unique container name for this test.
cname() { echo "${T_PREFIX}-$1"; }

# Create a busybox container with the probe inside; extra args go to create.
mk() {
        local name=$1
        shift
        ctr create "$name" -t busybox -q ${T_MK_ARGS:-} "$@" || fail "create $name"
        install -m 0755 "$PROBE" "$T_ROOT/containers/$name/rootfs/bin/ctr-probe"
}

state_of() { ctr list --format json | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c["name"] == sys.argv[1]: print(c["state"]); break
else: print("absent")' "$1"; }

json_field() { # json_field 'python expr on d' < json
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

init_pid() { ctr info "$1" --format json | json_field 'd["pid"]'; }
monitor_pid() { ctr info "$1" --format json | json_field 'd["monitor_pid"]'; }

# Wait until a container reaches a state (default 10 s).
wait_state() {
        local name=$1 want=$2 t=${3:-100} s
        while [ "$t" -gt 0 ]; do
                s=$(state_of "$name")
                [ "$s" = "$want" ] && return 0
                sleep 0.1
                t=$((t - 1))
        done
        fail "$name did not become $want (is $(state_of "$name"))"
}

# Run a command expecting ctr's failure: exit 125 and exactly one line on stderr.
expect_125() {
        local what=$1 err rc
        shift
        err=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
        [ "$rc" = 125 ] || fail "$what: exit $rc, expected 125 (stderr: $err)"
        [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "$what: expected one error line, got: $err"
        printf '%s\n' "$err"
}

# A fingerprint of everything under the state root (names, sizes, modes), to prove a failed
# command changed nothing. What is kept only to save work (memos, list summaries) is left out.
root_fingerprint() {
        find "$T_ROOT" -path "$T_ROOT/log" -prune -o -path "$T_ROOT/run/.memo" -prune -o -name .summary -prune -o \
                -printf '%p %s %m %y\n' 2>/dev/null | sort | md5sum
}

# Run a command on a fresh pseudo-terminal, print its output and return its exit status: for -t
# paths without script(1)'s end-of-input characters. PTY_KEYS (printf escapes) is typed once the
# output contains PTY_AFTER; nothing is typed otherwise.
in_pty() {
        PTY_KEYS=${PTY_KEYS:-} PTY_AFTER=${PTY_AFTER:-} python3 - "$@" <<'PY'
import os, pty, select, sys, time
keys = os.environ["PTY_KEYS"].encode().decode("unicode_escape").encode("latin-1")
after = os.environ["PTY_AFTER"].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 30
while time.time() < deadline:
    if keys and after in out:
        os.write(fd, keys)
        keys = b""
    r, _, _ = select.select([fd], [], [], 0.2)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
PY
}

# Skip (not pass) unless /sys/fs/cgroup is a pure cgroup2 hierarchy offering the controller:
# the VM lane has it, hybrid hosts do not.
need_v2_controller() {
        if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || ! grep -qw "$1" /sys/fs/cgroup/cgroup.controllers; then
                echo "skipped: needs cgroup2 with the $1 controller (run in the VM lane)"
                exit 0
        fi
}

# Replace /etc/init.d/rcS in a stopped VM's ext4 disk image ($1) with the file $2, executable.
vm_disk_put_rcs() {
        debugfs -w -R "rm /etc/init.d/rcS" "$1" >/dev/null 2>&1
        debugfs -w -f - "$1" >/dev/null 2>&1 <<EOF2 || fail "debugfs could not write rcS into $1"
write $2 /etc/init.d/rcS
set_inode_field /etc/init.d/rcS mode 0100755
EOF2
}

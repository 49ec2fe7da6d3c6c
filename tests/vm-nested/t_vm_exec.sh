# Nested lane: `ctr exec` into a --vm container runs the command in the guest, through the guest
# agent and the monitor's relay (runtime/relay.c), with stdio, exit status, user, workdir, env
# and signals as a namespace exec has them. An exec issued while the guest still boots waits for
# its agent. Every check looks at a fact only the guest has: its kernel command line (the
# VMM's), its hostname, its own disk.
if [ ! -c /dev/kvm ] || { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
        echo "skipped: needs hardware KVM (the VM lane loads kvm_amd)"
        exit 0
fi
ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 || { echo "skipped: no cached Debian kernel"; exit 0; }
n=${T_PREFIX}vmx
tmp=$(mktemp -d /var/tmp/ctr-vmx.XXXXXX)
cleanup() { ctr destroy --force "$n" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

ctr create "$n" -t busybox --vm --net none --vm-memory 256M --hostname vmx-guest >/dev/null || fail "create --vm"
ctr start "$n" || fail "start"
mlog=$T_ROOT/log/$n.monitor.log
# No polling for readiness: the first exec waits for the agent.
t0=$(date +%s)
out=$(ctr exec "$n" -- cat /proc/cmdline 2>&1) || fail "first exec: $out; monitor: $(tail -5 "$mlog")"
echo "first exec answered $(($(date +%s) - t0)) s after start"
assert_match "$out" "i8042.nokbd" "the command ran in the guest (the VMM's kernel command line)"
assert_no_match "$(cat /proc/cmdline)" "i8042.nokbd" "the lane's own command line differs"
assert_eq "$(ctr exec "$n" -- hostname)" "vmx-guest" "the guest's hostname"

# Exit status, stdout and stderr apart, not found, not executable.
rc=0; ctr exec "$n" -- sh -c 'exit 7' || rc=$?
assert_eq "$rc" 7 "exit status"
out=$(ctr exec "$n" -- sh -c 'echo out; echo err >&2' 2>"$tmp/err")
assert_eq "$out" "out" "stdout"
assert_eq "$(cat "$tmp/err")" "err" "stderr kept apart"
rc=0; ctr exec "$n" -- /no/such/cmd 2>/dev/null || rc=$?
assert_eq "$rc" 127 "not found"
rc=0; ctr exec "$n" -- /etc/passwd 2>/dev/null || rc=$?
assert_eq "$rc" 126 "not executable"

# stdin, small and bulk (byte-exact through both directions of the relay).
assert_eq "$(printf 'abc' | ctr exec "$n" -- cat)" "abc" "stdin"
head -c 1048576 /dev/urandom >"$tmp/blob"
want=$(md5sum <"$tmp/blob" | cut -d' ' -f1)
got=$(ctr exec "$n" -- md5sum <"$tmp/blob" | cut -d' ' -f1)
assert_eq "$got" "$want" "1 MiB of stdin reaches the guest intact"
got=$(ctr exec "$n" -- cat <"$tmp/blob" | md5sum | cut -d' ' -f1)
assert_eq "$got" "$want" "1 MiB comes back intact"

# User, workdir, environment.
assert_eq "$(ctr exec -u 1234:567 "$n" -- sh -c 'echo $(id -u):$(id -g)')" "1234:567" "-u uid:gid"
assert_eq "$(ctr exec "$n" -- id -u)" 0 "root by default"
assert_eq "$(ctr exec -w /tmp "$n" -- pwd)" /tmp "-w"
assert_eq "$(ctr exec -e FOO=bar "$n" -- sh -c 'echo $FOO')" bar "-e"
rc=0; out=$(ctr exec -u nosuchuser "$n" -- true 2>&1) || rc=$?
assert_eq "$rc" 125 "unknown user refused"
assert_match "$out" "nosuchuser" "the error names the user"

# -t: a pty in the guest, its size from the caller's terminal (script(1) provides one).
if command -v script >/dev/null; then
        out=$(script -qec "stty rows 33 cols 101; $CTR --root $T_ROOT exec -t $n -- sh -c 'tty; stty size'" /dev/null 2>&1 | tr -d '\r')
        assert_match "$out" "/dev/pts/[0-9]" "-t gives a pty in the guest"
        assert_match "$out" "33 101" "the window size reaches the guest's pty"
fi

# The guest's own disk: a file written by one exec is seen by the next, not on the host's tree.
ctr exec "$n" -- sh -c 'echo inside > /root/vmx-mark' || fail "write in the guest"
assert_eq "$(ctr exec "$n" -- cat /root/vmx-mark)" inside "the guest's disk keeps it"
[ -e "$T_ROOT/containers/$n/rootfs/root/vmx-mark" ] && fail "the file appeared in the host's tree"

# Concurrent sessions stay apart.
ctr exec "$n" -- sh -c 'sleep 1; echo one' >"$tmp/one" &
p1=$!
ctr exec "$n" -- sh -c 'echo two' >"$tmp/two" &
p2=$!
wait "$p1" || fail "concurrent exec one"
wait "$p2" || fail "concurrent exec two"
assert_eq "$(cat "$tmp/one")" one "first concurrent session"
assert_eq "$(cat "$tmp/two")" two "second concurrent session"

# A signal to ctr exec goes to the command in the guest (ctr itself, not the shell function's
# subshell, gets it).
"$CTR" --root "$T_ROOT" exec "$n" -- sleep 300 &
p=$!
for _ in $(seq 50); do ctr exec "$n" -- sh -c 'pidof sleep' >/dev/null 2>&1 && break; sleep 0.2; done
kill -TERM "$p"
rc=0; wait "$p" || rc=$?
assert_eq "$rc" 143 "SIGTERM reached the guest's command"
for _ in $(seq 50); do ctr exec "$n" -- sh -c 'pidof sleep' >/dev/null 2>&1 || break; sleep 0.2; done
ctr exec "$n" -- sh -c 'pidof sleep' >/dev/null 2>&1 && fail "the guest's sleep survived"

ctr stop "$n" -t 60 >/dev/null || fail "stop"
rc=0; out=$(ctr exec "$n" -- true 2>&1) || rc=$?
assert_eq "$rc" 125 "exec into a stopped VM"
assert_match "$out" "not running" "the reason"
ctr destroy "$n" || fail "destroy"

# --debug shows the compiled spec exactly as the launcher gets it: the console pty and the
# notify directory of this very start (not placeholders), the detached idmapped root of a user
# namespace, and for exec the exec's own process.
n=$(cname dbg)
mk "$n" --net none
out=$(ctr --debug start "$n" 2>&1 >/dev/null) || fail "start --debug: $out"
assert_match "$out" "^ctr: the compiled spec of the container's init:" "the spec's header"
assert_match "$out" "rootfs .*\(a detached idmapped mount, attached\)" "the user namespace's root"
assert_match "$out" "process.args /sbin/init" "init's argv"
assert_match "$out" "bind +/run/host/notify <- $T_ROOT/run/$n/notify" "the notify directory"
pty=$(printf '%s\n' "$out" | sed -n 's|^bind *\/dev\/console <- \(/dev/pts/[0-9]*\).*|\1|p')
[ -n "$pty" ] || fail "no console pty in the spec: $out"
# The pty printed is the one init got as its console.
assert_eq "$(readlink "/proc/$(init_pid "$n")/fd/0")" "$pty" "init's console is the printed pty"
out=$(ctr --debug exec "$n" -- true 2>&1) || fail "exec --debug: $out"
assert_match "$out" "^ctr: the compiled spec of the exec process:" "exec's spec"
assert_match "$out" "process.args true" "the exec's argv"
assert_match "$out" "namespaces.join user mnt net uts ipc cgroup" "the exec joins init's namespaces"
# Without --debug nothing of it is printed.
assert_eq "$(ctr exec "$n" -- true 2>&1)" "" "exec without --debug"
ctr stop "$n" -t 2
ctr destroy "$n"

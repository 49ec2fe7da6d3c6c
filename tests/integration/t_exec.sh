# exec: exit status passthrough, user, workdir, environment, stdin/stdout, pty.
n=$(cname exec)
mk "$n" -e FROMCONFIG=yes
ctr start "$n"
for code in 0 1 77; do
        rc=0
        ctr exec "$n" -- sh -c "exit $code" || rc=$?
        assert_eq "$rc" "$code" "exit status $code"
done
rc=0
ctr exec "$n" -- sh -c 'kill -9 $$' || rc=$?
assert_eq "$rc" 137 "killed by SIGKILL"
rc=0
ctr exec "$n" -- /no/such/cmd 2>/dev/null || rc=$?
assert_eq "$rc" 127 "command not found"

assert_eq "$(ctr exec "$n" -u nobody -- ctr-probe uid gid | tr '\n' ' ')" "uid=65534 gid=65534 " "-u nobody"
assert_eq "$(ctr exec "$n" -u 1234:55 -- ctr-probe uid gid | tr '\n' ' ')" "uid=1234 gid=55 " "-u 1234:55"
assert_eq "$(ctr exec "$n" -w /tmp -- ctr-probe cwd)" "cwd=/tmp" "-w"
assert_eq "$(ctr exec "$n" -e FOO=bar -- ctr-probe env:FOO)" "env:FOO=bar" "-e"
assert_eq "$(ctr exec "$n" -- ctr-probe env:FROMCONFIG)" "env:FROMCONFIG=yes" "config environment"
assert_eq "$(ctr exec "$n" -- ctr-probe env:container)" "env:container=ctr" "container= variable"

# stdin is piped in, stdout and stderr stay apart.
assert_eq "$(printf 'abc\n' | ctr exec "$n" -- cat)" abc "stdin"
out=$(ctr exec "$n" -- sh -c 'echo out; echo err >&2' 2>/dev/null)
assert_eq "$out" out "stdout alone"
err=$(ctr exec "$n" -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
assert_eq "$err" err "stderr alone"

# The exec'd process joins the container's cgroup and namespaces, and inherits only stdio.
assert_eq "$(ctr exec "$n" -- ctr-probe cgroup)" "cgroup=/" "exec cgroup"
assert_eq "$(ctr exec "$n" -- ctr-probe fds)" "fds=0,1,2" "exec fds"
assert_eq "$(ctr exec "$n" -- ctr-probe tty)" "tty=none" "no tty without -t"

# -t: a pty from the container's own devpts, with ctr itself on a terminal.
out=$(in_pty "$CTR" --root "$T_ROOT" exec -t "$n" -- ctr-probe tty)
assert_match "$out" "^tty=/dev/pts/[0-9]+" "-t gives a pty"
rc=0
in_pty "$CTR" --root "$T_ROOT" exec -t "$n" -- sh -c 'exit 3' >/dev/null || rc=$?
assert_eq "$rc" 3 "-t exit status"

ctr stop "$n" --kill
expect_125 "exec on a stopped container" ctr exec "$n" -- true >/dev/null
ctr destroy "$n"

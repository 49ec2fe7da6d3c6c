# Confinement: from inside a default container, the known ways out must all fail, each with the
# errno of the wall that stops it (capabilities, the seccomp filter, the device filter, read-only
# and masked mounts, the pid namespace). Every probe is harmless even if a wall is missing
# (tests/probe/ctr-probe.c: reboot with CAD_OFF, kexec with no segments, sysrq opened not written,
# the clock set to what it says). Also: the seccomp options, no host fd or cwd reaching a
# container, and ctr's own binary out of reach (a read-only bind of it, or a sealed memfd).
n=$(cname esc)
mk "$n"
ctr start "$n"
mp=$(monitor_pid "$n")
assert_eq "$(ctr exec "$n" -- ctr-probe seccomp)" "seccomp=2" "exec runs under a seccomp filter"
assert_eq "$(ctr exec "$n" -- grep Seccomp: /proc/1/status | awk '{print $2}')" 2 "init runs under a seccomp filter"

# The container's mounts under /proc, to see that the procfs probes leave none behind.
procmounts() { ctr exec "$1" -- cat /proc/self/mountinfo | awk '$5 ~ "^/proc(/|$)" {print $5}' | sort; }
pm_before=$(procmounts "$n")
# fact -> the errnos that may stop it (ENOENT where a kernel may lack the file altogether).
out=$(ctr exec "$n" -- ctr-probe escape:module escape:kexec escape:handle escape:mknod escape:sysrq \
        escape:sys-write escape:sys-rw escape:reboot escape:ptrace="$mp" escape:devmem escape:kcore escape:bpf \
        escape:keyctl escape:perf settime escape:newproc-sys escape:proc1)
check() { # check FACT ERRNO-REGEX
        local line
        line=$(printf '%s\n' "$out" | grep "^$1=") || fail "no answer for $1 in: $out"
        assert_match "$line" "^$1=error:($2)\$" "$1"
}
check escape:module EPERM
check escape:kexec EPERM
check escape:handle EPERM
# Read-only bind (EROFS); in a user namespace the host's root owns it (EACCES) first.
check escape:sysrq 'EROFS|ENOENT|EACCES'
check escape:sys-write 'EROFS|ENOENT'
check escape:sys-rw EPERM
check escape:reboot 'EINVAL|EPERM'
check "escape:ptrace=$mp" ESRCH
check escape:devmem 'ENOENT|EPERM'
check escape:kcore 'ENOENT|ENODATA|EPERM'
check escape:bpf EPERM
check escape:keyctl EPERM
check escape:perf EPERM
check settime EPERM
# A default container has a user namespace: a fresh procfs may be mounted (it shows nothing the
# container's own could not), but its /proc/sys belongs to the host, so opening core_pattern
# for writing is refused.
check escape:newproc-sys 'EACCES|EPERM|EROFS'
assert_match "$(ctr exec "$n" -- cat /proc/self/uid_map)" "^ *0 +[1-9][0-9]* +65536" "a default container is user-namespaced"
# A fresh procfs over /proc/1 goes through too (systemd's ProtectProc= needs it; ctr-security(7));
# the probe takes it off again, so the container's mount table is as it was.
assert_eq "$(printf '%s\n' "$out" | grep '^escape:proc1=')" "escape:proc1=ok" "a procfs over /proc/1, user-namespaced"
assert_eq "$(procmounts "$n")" "$pm_before" "the probe's /proc/1 mount is gone"
assert_match "$(printf '%s\n' "$out" | grep '^escape:mknod=')" 'escape:mknod=mknod:EPERM|escape:mknod=mknod:ok,open:EPERM' \
        "a block device node cannot be made and opened"
# The i386 ABI cannot go around the filter: busybox's own "kexec" is 64-bit, so the unit tests
# cover int 0x80 (tests/unit/test_seccomp.c); here the filter's mode is what matters.

# No host fd and no host cwd reach a process that enters the container.
exec 7</etc/hostname
(cd /tmp && assert_eq "$(ctr exec "$n" -- ctr-probe fds cwd)" "$(printf 'fds=0,1,2\ncwd=/root')" \
        "exec from a host cwd with fd 7 open")
exec 7<&-
assert_eq "$(ctr exec "$n" -- ls /proc/1/fd | sort | tr '\n' ' ')" "0 1 2 " "init's fds"
assert_eq "$(ctr exec "$n" -- readlink /proc/1/cwd)" "/" "init's cwd"

# ctr's own processes run from a read-only bind of the binary (or a sealed memfd copy): nothing
# inside can rewrite it (t_exe proves both forms hold even once nothing executes the binary).
exe_protected() { # PID: its image is the detached read-only bind ("/") or the sealed copy
        local l
        l=$(readlink "/proc/$1/exe")
        [ "$l" = / ] || [[ "$l" == /memfd:ctr* ]]
}
exe_protected "$mp" || fail "the monitor's image: $(readlink "/proc/$mp/exe")"
python3 - "$mp" <<'EOF' || fail "the monitor's binary could be opened for writing"
import sys
try:
    with open(f"/proc/{sys.argv[1]}/exe", "r+b") as f:
        f.write(b"x")
        f.flush()
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
"$CTR" --root "$T_ROOT" exec "$n" -- sleep 5 &
ep=$!
# Until the sleep runs inside, the exec process is ctr itself: by then it must be the copy.
for _ in $(seq 100); do
        pgrep -x -P "$ep" sleep >/dev/null && break
        sleep 0.05
done
exe_protected "$ep" || fail "ctr exec's image: $(readlink "/proc/$ep/exe")"
kill "$ep" 2>/dev/null
wait "$ep" 2>/dev/null || true
ctr stop "$n" --kill
ctr destroy "$n"

# The options: allow a group back, deny one more, unconfined, a profile file; bad names refused.
s=$(cname escopt)
mk "$s" --seccomp-allow @keyring --seccomp-deny getppid
ctr start "$s"
assert_match "$(ctr exec "$s" -- ctr-probe escape:keyctl)" '^escape:keyctl=(ok|error:E[A-Z]+)$' "keyctl"
assert_no_match "$(ctr exec "$s" -- ctr-probe escape:keyctl)" 'EPERM' "--seccomp-allow @keyring"
ctr exec "$s" -- sh -c 'echo $PPID' >/dev/null || fail "the shell died"
assert_match "$(ctr info "$s")" 'seccomp.*allow=@keyring.*deny=getppid' "info shows the seccomp options"
ctr stop "$s" --kill
ctr config "$s" set security.seccomp.profile unconfined
ctr start "$s"
assert_eq "$(ctr exec "$s" -- ctr-probe seccomp)" "seccomp=0" "unconfined has no filter"
ctr stop "$s" --kill
prof=$T_ROOT/profile.json
cat > "$prof" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}
EOF
ctr config "$s" set security.seccomp.profile "$prof"
ctr start "$s"
assert_match "$(ctr exec "$s" -- hostname other 2>&1)" 'not supported|Operation not supported' "the profile's errno"
ctr stop "$s" --kill
ctr destroy "$s"

before=$(root_fingerprint)
expect_125 "unknown group" ctr create "$(cname escbad)" -t busybox --seccomp-allow @nonsense |
        grep -q "'@nonsense' is not a syscall group" || fail "bad group message"
expect_125 "unknown syscall" ctr create "$(cname escbad)" -t busybox --seccomp-deny not_a_call >/dev/null
expect_125 "missing profile" ctr create "$(cname escbad)" -t busybox --seccomp /nonexistent/p.json >/dev/null
expect_125 "relative profile" ctr create "$(cname escbad)" -t busybox --seccomp p.json >/dev/null
echo '{"defaultAction": "SCMP_ACT_SOMETIMES"}' > "$T_ROOT/bad.json"
expect_125 "bad profile" ctr create "$(cname escbad)" -t busybox --seccomp "$T_ROOT/bad.json" |
        grep -q "SCMP_ACT_SOMETIMES" || fail "bad profile message"
rm -f "$T_ROOT/bad.json"
assert_eq "$(root_fingerprint)" "$before" "refused creates changed the state root"

# --no-userns (a privileged container): the same walls hold but for the fresh procfs, which only
# a user namespace (or an LSM) keeps from the host's /proc/sys (ctr-security(7)).
u=$(cname escu)
mk "$u" --no-userns
ctr start "$u"
assert_eq "$(ctr exec "$u" -- cat /proc/self/uid_map | awk '{print $1 $2 $3}')" "004294967295" "no user namespace"
pm_before=$(procmounts "$u")
out=$(ctr exec "$u" -- ctr-probe escape:module escape:kexec escape:handle escape:sys-rw escape:sys-write settime \
        escape:reboot escape:bpf escape:keyctl escape:proc1 escape:newproc-sys)
for f in escape:module escape:kexec escape:handle escape:sys-rw escape:sys-write settime escape:reboot escape:bpf \
        escape:keyctl; do
        assert_match "$(printf '%s\n' "$out" | grep "^$f=")" "^$f=error:E[A-Z]+\$" "$f under --no-userns"
done
# What ctr-security(7) says such a root can still do: mount a fresh procfs, over /proc/1 or
# anywhere, and open its /proc/sys for writing (the probe never writes, and unmounts at once).
assert_eq "$(printf '%s\n' "$out" | grep '^escape:proc1=')" "escape:proc1=ok" "a procfs over /proc/1 under --no-userns"
assert_eq "$(printf '%s\n' "$out" | grep '^escape:newproc-sys=')" "escape:newproc-sys=ok" \
        "a fresh procfs's /proc/sys under --no-userns"
assert_eq "$(procmounts "$u")" "$pm_before" "the probes' procfs mounts are gone"
ctr stop "$u" --kill
ctr destroy "$u"

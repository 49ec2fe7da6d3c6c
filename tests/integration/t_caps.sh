# Capabilities: a default container keeps the system-container set and loses the dangerous ones
# (checked bit by bit, for init and for exec), --cap-drop and --cap-add change it, bad names are
# refused with one line and no change, --no-new-privs reaches init and exec. Probes are harmless:
# setting the clock to the current time. Every way through ctr_confine's order (seccomp last, or
# before the user switch when no_new_privs is off and SYS_ADMIN would be gone) ends filtered.
n=$(cname caps)
mk "$n"
ctr start "$n"
bits() { python3 -c 'import sys; m = int(sys.argv[1], 16); print(" ".join(str(b) for b in range(64) if m >> b & 1))' "$1"; }
init_bnd=$(ctr exec "$n" -- grep CapBnd /proc/1/status | awk '{print $2}')
b=" $(bits "$init_bnd") "
for cap in 16 17 25 32 33 34 35 39; do # SYS_MODULE SYS_RAWIO SYS_TIME MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BPF
        case "$b" in *" $cap "*) fail "init's bounding set has capability $cap ($init_bnd)" ;; esac
done
for cap in 0 12 13 21 22; do # CHOWN NET_ADMIN NET_RAW SYS_ADMIN SYS_BOOT
        case "$b" in *" $cap "*) ;; *) fail "init's bounding set lacks capability $cap ($init_bnd)" ;; esac
done
assert_eq "$(ctr exec "$n" -- grep CapAmb /proc/1/status | awk '{print $2}')" 0000000000000000 "ambient set"
assert_eq "$(ctr exec "$n" -- ctr-probe capeff)" "capeff=$(ctr exec "$n" -- grep CapEff /proc/1/status | awk '{print $2}')" \
        "exec gets init's capabilities"
assert_eq "$(ctr exec "$n" -- ctr-probe nonewprivs)" "nonewprivs=0" "no_new_privs is off by default"
assert_eq "$(ctr exec "$n" -- ctr-probe settime)" "settime=error:EPERM" "setting the clock (to the current time)"
assert_eq "$(ctr exec -u 1000 "$n" -- ctr-probe capeff)" "capeff=0000000000000000" "a non-root exec has none"
assert_eq "$(ctr exec "$n" -- ctr-probe seccomp nonewprivs | tr '\n' ' ')" "seccomp=2 nonewprivs=0 " \
        "root exec: filter last"
assert_eq "$(ctr exec -u 1000 "$n" -- ctr-probe seccomp)" "seccomp=2" "non-root exec: filter before the user switch"
ctr exec "$n" -- ping -c1 -W2 10.57.0.1 >/dev/null || fail "ping with NET_RAW"
ctr stop "$n"
grep -q "Requesting system poweroff" "$T_ROOT/log/$n.log" || fail "busybox init did not stop gracefully"
ctr destroy "$n"

m=$(cname capdrop)
mk "$m" --cap-drop NET_RAW --cap-drop cap_mknod --no-new-privs
ctr start "$m"
if ctr exec "$m" -- ping -c1 -W2 10.57.0.1 >/dev/null 2>&1; then fail "ping without NET_RAW"; fi
assert_eq "$(ctr exec "$m" -- ctr-probe nonewprivs)" "nonewprivs=1" "--no-new-privs for exec"
assert_eq "$(ctr exec "$m" -- grep NoNewPrivs /proc/1/status | awk '{print $2}')" 1 "--no-new-privs for init"
if ctr exec "$m" -- mknod /tmp/null c 1 3 2>/dev/null; then fail "mknod without MKNOD"; fi
assert_eq "$(ctr exec -u 1000 "$m" -- ctr-probe seccomp)" "seccomp=2" "non-root exec with no_new_privs: filter last"
ctr stop "$m" --kill
ctr destroy "$m"

# Without SYS_ADMIN and without no_new_privs, the filter must go in while ctr still has it.
a=$(cname capnoadm)
mk "$a" --cap-drop SYS_ADMIN
ctr start "$a"
assert_eq "$(ctr exec "$a" -- grep Seccomp: /proc/1/status | awk '{print $2}')" 2 "init without SYS_ADMIN is filtered"
assert_eq "$(ctr exec "$a" -- ctr-probe seccomp nonewprivs | tr '\n' ' ')" "seccomp=2 nonewprivs=0 " \
        "exec without SYS_ADMIN is filtered"
case " $(bits "$(ctr exec "$a" -- ctr-probe capeff | cut -d= -f2)") " in *" 21 "*) fail "exec kept SYS_ADMIN" ;; esac
ctr stop "$a" --kill
ctr destroy "$a"

before=$(root_fingerprint)
expect_125 "unknown capability" ctr create "$(cname capbad)" -t busybox --cap-add FOO | grep -q "'FOO' is not a capability" ||
        fail "bad capability message"
expect_125 "unknown capability to drop" ctr create "$(cname capbad)" -t busybox --cap-drop NET_RAWW >/dev/null
assert_eq "$(root_fingerprint)" "$before" "refused creates changed the state root"

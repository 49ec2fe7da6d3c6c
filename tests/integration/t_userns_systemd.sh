# systemd in a user-namespaced container: the debian fixture created with --userns (overlay on
# the shared cache, both layers idmapped) boots to "running" with root inside an unprivileged
# host uid, manages its delegated cgroup, logs in on the console, reboots, and stops cleanly.

cache=${CTR_CI_CACHE:-}
if [ -z "$cache" ] || ! ls -d "$cache"/templates/debian-bookworm-*/current > /dev/null 2>&1; then
        echo "skipped: no debian fixture (make debian-fixture builds it)"
        exit 0
fi
export CTR_CACHE=$cache
sub="$T_ROOT/subid"
mkdir -p "$sub"
: > "$sub/subuid"
: > "$sub/subgid"
export CTR_SUBUID="$sub/subuid" CTR_SUBGID="$sub/subgid"
n=$(cname sdu)

ctr create "$n" -t debian -q --userns
cfg="$T_ROOT/containers/$n/config.json"
assert_eq "$(json_field 'd["storage"]["driver"]' < "$cfg")" overlay "storage driver"
assert_eq "$(json_field 'd["security"]["idmap"]' < "$cfg")" "{'uid': 1000000, 'gid': 1000000, 'count': 65536, 'shift': 'mount'}" "idmap"

wait_running() {
        local s= i
        for i in $(seq 60); do
                s=$(ctr exec "$n" -- systemctl is-system-running --wait 2> /dev/null) || true
                case "$s" in running | degraded | maintenance | stopping) break ;; esac
                sleep 0.5
        done
        printf '%s' "$s"
}
ctr start "$n"
state=$(wait_running)
if [ "$state" != running ]; then
        ctr exec "$n" -- systemctl --failed --no-pager >&2 || true
        fail "systemd is '$state', not running"
fi

assert_eq "$(ctr exec "$n" -- cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "0 1000000 65536" "uid map"
assert_eq "$(ctr exec "$n" -- id -u)" 0 "root inside"
pid=$(init_pid "$n")
assert_eq "$(stat -c %u /proc/"$pid")" 1000000 "systemd's host uid"
assert_match "$(ctr exec "$n" -- cat /proc/1/cgroup)" '^0::/init.scope$' "systemd made its tree in the delegated cgroup"
assert_eq "$(ctr exec "$n" -- stat -c %U:%G /etc/shadow /usr/bin/passwd | sort -u | tr '\n' ' ')" "root:root root:shadow " \
        "the lower's owners seen inside"
# setuid binaries keep working (su as a user, through the idmapped lower).
assert_eq "$(ctr exec "$n" -- stat -c %a /usr/bin/su)" 4755 "su keeps its setuid bit"
ctr exec "$n" -- sh -c 'echo made > /root/made' || fail "write inside"
assert_eq "$(stat -c %u "$T_ROOT/containers/$n/upper/root/made")" 0 "upper stores root inside unshifted"
assert_eq "$(stat -c %u /proc/"$pid"/root/root/made)" 1000000 "seen through the container: the mapped uid"
for _ in $(seq 50); do grep -q 'automatic login' "$T_ROOT/log/$n.log" && break; sleep 0.1; done
grep -q 'automatic login' "$T_ROOT/log/$n.log" || fail "no console autologin: $(tail -5 "$T_ROOT/log/$n.log")"

pid_before=$pid
ctr exec "$n" -- systemctl reboot || true
for _ in $(seq 100); do
        p=$(init_pid "$n" 2> /dev/null) || p=
        [ -n "$p" ] && [ "$p" != "$pid_before" ] && break
        sleep 0.1
done
[ "$p" != "$pid_before" ] || fail "no new init after reboot"
assert_eq "$(wait_running)" running "systemd after reboot"
assert_eq "$(stat -c %u /proc/"$p")" 1000000 "the new init's host uid"

ctr stop "$n"
if grep -q "killing the container" "$T_ROOT/log/$n.monitor.log"; then fail "stop needed SIGKILL"; fi
tail -20 "$T_ROOT/log/$n.log" | grep -Eq 'System Halt|Halting system|Power-Off|Powering off' ||
        fail "no normal shutdown on the console: $(tail -5 "$T_ROOT/log/$n.log")"
ctr destroy "$n"
[ -d "$(ls -d "$cache"/templates/debian-bookworm-*/current)/rootfs/etc" ] || fail "destroy touched the cache"
assert_eq "$(stat -c %u "$(ls -d "$cache"/templates/debian-bookworm-*/current)/rootfs/etc")" 0 "the shared lower is unshifted"

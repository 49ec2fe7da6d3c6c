# systemd as the container's init (its CONTAINER_INTERFACE): a debian container from the cached
# fixture (make debian-fixture) boots to "running", sees the interface it expects, reboots as a
# restart, and stops cleanly on SIGRTMIN+3 without SIGKILL. Boot and stop times are printed
# for information only; the speed targets live in make bench.

cache=${CTR_CI_CACHE:-}
if [ -z "$cache" ] || ! ls -d "$cache"/templates/debian-bookworm-*/current > /dev/null 2>&1; then
        echo "skipped: no debian fixture (make debian-fixture builds it)"
        exit 0
fi
export CTR_CACHE=$cache
n=$(cname sd)
ms() { echo $(($(date +%s%N) / 1000000)); }

t=$(ms)
ctr create "$n" -t debian -q
echo "info: warm-cache create $(($(ms) - t)) ms"
cfg="$T_ROOT/containers/$n/config.json"
assert_eq "$(json_field 'd["storage"]["driver"]' < "$cfg")" overlay "storage driver"
uuid=$(json_field 'd["uuid"]' < "$cfg")

# Wait for systemd: "offline" until its manager answers, then --wait blocks until boot ends.
wait_running() {
        local s= i
        for i in $(seq 60); do
                s=$(ctr exec "$n" -- systemctl is-system-running --wait 2> /dev/null) || true
                case "$s" in running | degraded | maintenance | stopping) break ;; esac
                sleep 0.5
        done
        printf '%s' "$s"
}
t=$(ms)
ctr start "$n"
state=$(wait_running)
echo "info: boot to $state $(($(ms) - t)) ms"
if [ "$state" != running ]; then
        ctr exec "$n" -- systemctl --failed --no-pager >&2 || true
        fail "systemd is '$state', not running"
fi

# The container interface as systemd sees it.
env1=$(ctr exec "$n" -- cat /proc/1/environ | tr '\0' '\n')
assert_match "$env1" '^container=ctr$' "container= in init's environment"
assert_match "$env1" "^container_uuid=$uuid\$" "container_uuid in init's environment"
assert_eq "$(ctr exec "$n" -- cat /etc/machine-id)" "$(printf '%s' "$uuid" | tr -d -)" "machine id from container_uuid"
assert_eq "$(ctr exec "$n" -- systemd-detect-virt --container)" "container-other" "systemd detects a container"
assert_eq "$(ctr exec "$n" -- hostname)" "$n" "hostname"
assert_eq "$(ctr exec "$n" -- stat -fc %T /sys/fs/cgroup)" cgroup2fs "unified cgroup hierarchy"
mi=$(ctr exec "$n" -- cat /proc/self/mountinfo)
mnt() { printf '%s\n' "$mi" | awk -v p="$1" '$5 == p { print $6 " " $(NF-2) }' | tail -1; }
assert_match "$(mnt /run)" '^rw.* tmpfs$' "/run tmpfs"
assert_match "$(mnt /run/lock)" '^rw.* tmpfs$' "/run/lock tmpfs"
assert_match "$(mnt /sys)" '^ro' "/sys read-only"
assert_match "$(mnt /sys/fs/cgroup)" '^rw.* cgroup2$' "writable cgroup2"
assert_match "$(mnt /proc/sys)" '^ro' "/proc/sys read-only"
assert_match "$(mnt /proc/sys/net)" '^rw' "/proc/sys/net writable in a private netns"
# systemd made its own tree below the container's cgroup, through the cgroup namespace.
assert_match "$(ctr exec "$n" -- cat /proc/1/cgroup)" '^0::/init.scope$' "init in its own init.scope"
# Console: getty with autologin for attach, and root's password locked.
for _ in $(seq 50); do grep -q 'automatic login' "$T_ROOT/log/$n.log" && break; sleep 0.1; done
grep -q 'automatic login' "$T_ROOT/log/$n.log" || fail "no console autologin: $(tail -5 "$T_ROOT/log/$n.log")"
assert_match "$(ctr exec "$n" -- passwd -S root)" '^root L' "root password locked"

# reboot inside = restart: a new init, same container, running again.
pid_before=$(init_pid "$n")
ctr exec "$n" -- systemctl reboot || true
for _ in $(seq 100); do
        p=$(init_pid "$n" 2> /dev/null) || p=
        [ -n "$p" ] && [ "$p" != "$pid_before" ] && break
        sleep 0.1
done
[ "$p" != "$pid_before" ] || fail "no new init after reboot"
assert_eq "$(wait_running)" running "systemd after reboot"
grep -q "init asked for a reboot" "$T_ROOT/log/$n.monitor.log" || fail "monitor did not see the reboot"

# Clean stop: SIGRTMIN+3, systemd shuts down by itself well within the timeout.
t=$(ms)
ctr stop "$n"
echo "info: stop $(($(ms) - t)) ms"
if grep -q "killing the container" "$T_ROOT/log/$n.monitor.log"; then fail "stop needed SIGKILL"; fi
tail -20 "$T_ROOT/log/$n.log" | grep -Eq 'System Halt|Halting system|Power-Off|Powering off' ||
        fail "no normal shutdown on the console: $(tail -5 "$T_ROOT/log/$n.log")"
assert_eq "$(state_of "$n")" stopped "state after stop"
ctr destroy "$n"
[ -d "$(ls -d "$cache"/templates/debian-bookworm-*/current)/rootfs/etc" ] || fail "destroy touched the cache"

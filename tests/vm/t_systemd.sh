# systemd as a container's init on a pure cgroup v2 kernel with controllers (the VM lane):
# it boots to "running" inside the container's limits, manages its own subtree with the
# delegated controllers, and stops cleanly. Uses the debian fixture (make debian-fixture),
# read through the VM's shared root.
cache=${CTR_CI_CACHE:-}
if [ -z "$cache" ] || ! ls -d "$cache"/templates/debian-bookworm-*/current > /dev/null 2>&1; then
        echo "skipped: no debian fixture (make debian-fixture)"
        exit 0
fi
need_v2_controller memory
export CTR_CACHE=$cache
n=$(cname vsd)
ctr create "$n" -t debian -q --memory 256M --pids 512 ${T_MK_ARGS:-}
ctr start "$n"
s=
for _ in $(seq 240); do
        s=$(ctr exec "$n" -- systemctl is-system-running --wait 2> /dev/null) || true
        case "$s" in running | degraded) break ;; esac
        sleep 0.5
done
if [ "$s" != running ]; then
        ctr exec "$n" -- systemctl --failed --no-pager >&2 || true
        fail "systemd is '$s', not running"
fi
# The container's limits are the root of what systemd sees, and it may use the controllers.
assert_eq "$(ctr exec "$n" -- cat /sys/fs/cgroup/memory.max)" 268435456 "memory.max at the container's root"
assert_match "$(ctr exec "$n" -- cat /sys/fs/cgroup/cgroup.controllers)" "memory" "controllers delegated"
# (That a manager inside can enable and use the offered controllers is t_nested_controllers'
# job: systemd's own choice of when to enable them for its slices varied between runs here.)
assert_eq "$(ctr exec "$n" -- cat /proc/1/cgroup)" "0::/init.scope" "init.scope"
ctr stop "$n"
if grep -q "killing the container" "$T_ROOT/log/$n.monitor.log"; then fail "stop needed SIGKILL"; fi
ctr destroy "$n"

# VM lane with systemd as PID 1 (vmrun.sh -S): ctr@.service for real. `systemctl start` returns
# when the container is ready (a busybox init at once; a systemd container when its own systemd
# reports READY=1, relayed through the monitor), the container's cgroup is below the unit's
# delegated cgroup with its limits, and `systemctl stop` stops it gracefully.
[ "$(cat /proc/1/comm)" = systemd ] || { echo "skipped: needs systemd as PID 1 (vmrun.sh -S)"; exit 0; }
n=$(cname unit)
unit="ctr@$n.service"
cleanup() {
        systemctl stop "$unit" "ctr@$n-d.service" >/dev/null 2>&1 || true
        rm -rf /etc/systemd/system/ctr@.service /etc/systemd/system/ctr@.service.d
        systemctl daemon-reload || true
}
trap cleanup EXIT
sed "s|@BINDIR@|$(dirname "$CTR")|g" "$T_HERE/../../systemd/ctr@.service.in" >/etc/systemd/system/ctr@.service
mkdir -p /etc/systemd/system/ctr@.service.d
# The test's private subuid files (the lane's /etc is the host's): containers are user-namespaced
# by default, and start checks their ranges there.
printf '[Service]\nEnvironment=CTR_ROOT=%s CTR_SUBUID=%s CTR_SUBGID=%s\n' "$T_ROOT" "$CTR_SUBUID" "$CTR_SUBGID" \
        >/etc/systemd/system/ctr@.service.d/root.conf
systemctl daemon-reload

mk "$n" --memory 64M
systemctl start "$unit"
assert_eq "$(systemctl is-active "$unit")" active "unit after start"
assert_eq "$(state_of "$n")" running "container after start"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$cg" "/sys/fs/cgroup/system.slice/system-ctr.slice/$unit/ctr-payload" "the container below the unit"
assert_eq "$(cat "$cg/memory.max")" 67108864 "its limit there"
grep -qx "$(monitor_pid "$n")" "/sys/fs/cgroup/system.slice/system-ctr.slice/$unit/ctr-monitor/cgroup.procs" ||
        fail "the unit's main process (the monitor) is not in ctr-monitor"
assert_eq "$(systemctl show -p MainPID --value "$unit")" "$(monitor_pid "$n")" "MainPID is the monitor"
systemctl stop "$unit"
assert_eq "$(state_of "$n")" stopped "container after systemctl stop"
if grep -q "killing the container" "$T_ROOT/log/$n.monitor.log"; then fail "stop needed SIGKILL"; fi
ctr destroy "$n"

# A systemd container: the unit is ready only when the container's own systemd says so.
cache=${CTR_CI_CACHE:-}
if [ -n "$cache" ] && ls -d "$cache"/templates/debian-bookworm-*/current >/dev/null 2>&1; then
        d="$n-d"
        CTR_CACHE=$cache ctr create "$d" -t debian -q ${T_MK_ARGS:-}
        systemctl start "ctr@$d.service"
        assert_eq "$(ctr exec "$d" -- systemctl is-system-running)" running "the container's systemd when the unit is ready"
        assert_match "$(systemctl show -p StatusText --value "ctr@$d.service")" "container $d is up" "status relayed"
        systemctl stop "ctr@$d.service"
        assert_eq "$(state_of "$d")" stopped "systemd container after systemctl stop"
        ctr destroy "$d"
fi

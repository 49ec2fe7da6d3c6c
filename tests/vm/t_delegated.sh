# VM lane: `ctr start --foreground` from a cgroup a service manager delegated (as systemd does for
# a unit with Delegate=yes, marking it with the trusted.delegate xattr) puts the container below
# that cgroup — the monitor in ctr-monitor, the container in ctr-payload with its limits — and
# not under ctr.slice; stop removes the payload cgroup and leaves the delegation to its owner.
need_v2_controller memory
n=$(cname deleg)
svc=/sys/fs/cgroup/${T_PREFIX}-deleg.service
fg=
cleanup() {
        if [ -n "$fg" ]; then kill "$fg" 2>/dev/null || true; fi
        sleep 0.2
        for d in "$svc/ctr-payload" "$svc/ctr-monitor" "$svc"; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT
mkdir "$svc"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.delegate", b"1")' "$svc"
mk "$n" --memory 64M
# The "unit": a shell in the delegated cgroup that runs the foreground monitor.
bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --root "$3" start --foreground "$4"' _ "$svc" "$CTR" "$T_ROOT" "$n" \
        >/dev/null 2>&1 &
fg=$!
wait_state "$n" running 300
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$cg" "$svc/ctr-payload" "the container's cgroup"
assert_eq "$(cat "$cg/memory.max")" 67108864 "the limit inside the delegation"
mon=$(monitor_pid "$n")
grep -qx "$mon" "$svc/ctr-monitor/cgroup.procs" || fail "the monitor is not in $svc/ctr-monitor"
[ ! -d "/sys/fs/cgroup/ctr.slice/$n.scope" ] || fail "a cgroup under ctr.slice too"
# A live change works there too.
ctr config "$n" set limits.memory 96M >/dev/null
assert_eq "$(cat "$cg/memory.max")" 100663296 "live change inside the delegation"
ctr stop "$n" --kill
wait "$fg" || true
fg=
[ ! -d "$svc/ctr-payload" ] || fail "the payload cgroup outlived the container"
[ -d "$svc" ] || fail "the delegated cgroup itself was removed"
ctr destroy "$n"

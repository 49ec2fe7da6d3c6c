# VM lane: block I/O limits (io.max) on the lane's scratch disk /dev/vda: written before init
# exists, enforced on direct writes from inside, changed live and cleared by `ctr config set`;
# cpuset.mems set at start. Privileged (--no-userns): the host's block device is bound in, which
# neither takes an idmapped mount nor opens for a user namespace's root.
need_v2_controller io
[ -b /dev/vda ] || { echo "skipped: no scratch disk /dev/vda (vmrun.sh -d)"; exit 0; }
dev=$(printf '%d:%d' "0x$(stat -c %t /dev/vda)" "0x$(stat -c %T /dev/vda)")
n=$(cname io)
mk "$n" --no-userns --io "/dev/vda:wbps=1M,riops=50" --cpuset-mems 0 --device "b $dev rw" -v /dev/vda:/dev/vda
assert_eq "$(ctr config "$n" get limits.io)" "$dev:wbps=1M,riops=50" "the path became the device's numbers"
ctr start "$n"
cg=$(ctr info "$n" --format json | json_field 'd["cgroup"]')
assert_eq "$(cat "$cg/io.max")" "$dev rbps=max wbps=1048576 riops=50 wiops=max" "io.max at start"
assert_eq "$(cat "$cg/cpuset.mems")" 0 "cpuset.mems at start"

# 2 MiB of direct writes at 1 MiB/s take more than a second; unthrottled they take a fraction.
elapsed() { # elapsed CMD...: milliseconds CMD took
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || fail "$*"
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
}
slow=$(elapsed ctr exec "$n" -- dd if=/dev/zero of=/dev/vda bs=64k count=32 oflag=direct)
[ "$slow" -ge 1200 ] || fail "2 MiB at wbps=1M took only $slow ms"
wbytes=$(ctr info "$n" --format json | json_field 'd["stats"]["io"]["wbytes"]')
[ "$wbytes" -ge 2097152 ] || fail "io.stat counted $wbytes written bytes"

ctr config "$n" set limits.io "$dev:wbps=64M"
assert_eq "$(cat "$cg/io.max")" "$dev rbps=max wbps=67108864 riops=max wiops=max" "io.max after a live change"
fast=$(elapsed ctr exec "$n" -- dd if=/dev/zero of=/dev/vda bs=64k count=32 oflag=direct)
[ "$fast" -lt "$slow" ] || fail "raising the limit did not speed writes up ($slow ms -> $fast ms)"
ctr config "$n" set limits.io null
assert_eq "$(cat "$cg/io.max")" "" "io.max after clearing the limit"

ctr stop "$n" --kill
ctr destroy "$n"

# User namespaces (create --userns): root inside is a high host uid taken from subuid/subgid
# (private files here, through CTR_SUBUID/CTR_SUBGID, so the host's /etc stays untouched), the
# rootfs is idmapped (or chowned with CTR_IDMAP=chown), ranges never overlap and are reused after
# a destroy, exec joins the namespace, read-write binds are idmapped to their source's owner and
# read-only ones are not, and bad input changes nothing.

sub="$T_ROOT/subid"
mkdir -p "$sub"
: > "$sub/subuid"
: > "$sub/subgid"
export CTR_SUBUID="$sub/subuid" CTR_SUBGID="$sub/subgid"
idmap() { json_field 'd["security"]["idmap"]' < "$T_ROOT/containers/$1/config.json"; }

a=$(cname a)
mk "$a" --userns --net none
# Empty files: ctr added its owner's range, in the format shadow-utils reads.
assert_eq "$(cat "$sub/subuid")" "root:1000000:1000000000" "ctr's entry in subuid"
assert_eq "$(cat "$sub/subgid")" "root:1000000:1000000000" "ctr's entry in subgid"
assert_eq "$(idmap "$a")" "{'uid': 1000000, 'gid': 1000000, 'count': 65536, 'shift': 'mount'}" "first range"
assert_match "$(ctr info "$a")" 'User ns: +uid 0-65535 -> host 1000000-1065535, gid 0-65535 -> host 1000000-1065535 \(idmapped mounts\)' "info"

ctr start "$a" || fail "start $a"
out=$(ctr exec "$a" -- /bin/ctr-probe uid gid uidmap gidmap owner:/bin/busybox owner:/dev/console)
assert_match "$out" '^uid=0$' "uid 0 inside"
assert_match "$out" 'uidmap=0 1000000 65536' "uid map"
assert_match "$out" 'gidmap=0 1000000 65536' "gid map"
assert_match "$out" 'owner:/bin/busybox=0:0' "the rootfs is root's inside"
assert_match "$out" 'owner:/dev/console=0:5' "the console belongs to root inside"
pid=$(init_pid "$a")
assert_eq "$(stat -c %u:%g /proc/"$pid")" "1000000:1000000" "init's host uid"
cg=$(ctr info "$a" --format json | json_field 'd["cgroup"]')
ctr exec "$a" -- sleep 30 &
ex=$!
sp=
for _ in $(seq 50); do
        for p in $(cat "$cg/cgroup.procs"); do [ "$(cat /proc/"$p"/comm 2> /dev/null)" = sleep ] && sp=$p; done
        [ -n "$sp" ] && break
        sleep 0.1
done
[ -n "$sp" ] || fail "the exec'd process is not in the container's cgroup"
assert_eq "$(stat -c %u:%g /proc/"$sp")" "1000000:1000000" "an exec'd process's host uid"
kill "$sp"
wait "$ex" 2> /dev/null || true

# A file made inside: the container's root through its mounts, stored unshifted on disk (the
# idmap shifts on access), so the host sees it as 1000000 only through the container.
ctr exec "$a" -- touch /made || fail "touch inside"
assert_eq "$(stat -c %u:%g /proc/"$pid"/root/made)" "1000000:1000000" "a file made inside, seen through the container"
assert_eq "$(stat -c %u:%g "$T_ROOT/containers/$a/rootfs/made")" "0:0" "the same file on disk"

# The cgroup is delegated to root inside.
assert_eq "$(stat -c %u "$cg")" 1000000 "cgroup directory owner"
assert_eq "$(stat -c %u "$cg/cgroup.procs")" 1000000 "cgroup.procs owner"
assert_eq "$(stat -c %u "$cg/cgroup.subtree_control")" 1000000 "cgroup.subtree_control owner"
ctr stop "$a" --kill

# A read-write bind mount is idmapped to its source's owner (here host root, who owns $T_ROOT):
# a host root file is root's inside and root there writes it, as root on the host. A file of
# another range is nobody's; one of the range's uid 1000 is uid 1000's, as without the idmap.
# A read-only bind keeps host owners, also after root inside remounts it read-write.
vol="$T_ROOT/vol"
mkdir -p "$vol"
echo host > "$vol/hostfile"
chmod 0644 "$vol/hostfile"
echo mine > "$vol/ctfile"
chown 1001000:1001000 "$vol/ctfile"
b=$(cname b)
mk "$b" --userns --net none -v "$vol:/vol" -v "$vol:/volro:ro"
assert_eq "$(idmap "$b")" "{'uid': 1065536, 'gid': 1065536, 'count': 65536, 'shift': 'mount'}" "second range, after the first"
ctr start "$b" || fail "start $b"
out=$(ctr exec "$b" -- /bin/ctr-probe owner:/vol/hostfile append:/vol/hostfile owner:/vol)
assert_match "$out" 'owner:/vol/hostfile=0:0' "a host root file in a root-owned volume is root's inside"
assert_match "$out" 'owner:/vol=0:0' "the volume's root is root's inside"
assert_match "$out" 'append:/vol/hostfile=1' "root inside writes it"
assert_eq "$(cat "$vol/hostfile")" "host
x" "written through the idmapped volume"
assert_eq "$(stat -c %u:%g "$vol/hostfile")" 0:0 "and still host root's"
ctr exec "$b" -- sh -c 'echo new > /vol/made' || fail "create in the volume"
assert_eq "$(stat -c %u:%g "$vol/made")" 0:0 "a file made inside belongs to the volume's owner"
out=$(ctr exec "$b" -- /bin/ctr-probe owner:/volro/hostfile append:/volro/hostfile)
assert_match "$out" 'owner:/volro/hostfile=65534:65534' "a read-only volume keeps host owners"
# (the owner's permission is checked before the mount's read-only flag)
assert_match "$out" 'append:/volro/hostfile=error:(EACCES|EROFS)' "and not writable"
ctr exec "$b" -- mount -o remount,rw,bind /volro || fail "root inside remounts its read-only bind"
out=$(ctr exec "$b" -- /bin/ctr-probe append:/volro/hostfile)
assert_match "$out" 'append:/volro/hostfile=error:(EACCES|EPERM)' "remounted read-write, a host root file stays out of reach"
out=$(ctr exec "$b" -- /bin/ctr-probe owner:/vol/ctfile)
# uid 1001000 is 1001000-1065536 = outside b's range (it starts at 1065536): nobody;
# b's own uid 1000 is host 1066536.
assert_match "$out" 'owner:/vol/ctfile=65534:65534' "another range's file is nobody's"
chown 1066536:1066536 "$vol/ctfile"
out=$(ctr exec "$b" -- /bin/ctr-probe owner:/vol/ctfile append:/vol/ctfile)
assert_match "$out" 'owner:/vol/ctfile=1000:1000' "a file of the range's uid 1000"
assert_match "$out" 'append:/vol/ctfile=1' "root inside writes its range's file"
ctr exec "$b" -- chown 1000:1000 /vol/made || fail "chown to the range's uid 1000 in the volume"
assert_eq "$(stat -c %u:%g "$vol/made")" 1066536:1066536 "uid 1000 inside is the range's on the host"
ctr stop "$b" --kill

# Destroy frees a range: the next create takes the lowest free one again.
ctr destroy "$a" || fail "destroy $a"
c=$(cname c)
mk "$c" --userns --net none
assert_eq "$(idmap "$c")" "{'uid': 1000000, 'gid': 1000000, 'count': 65536, 'shift': 'mount'}" "a freed range is reused"

# The chown fallback (forced; ext4 would take idmapped mounts): the tree is shifted on disk once.
d=$(cname d)
CTR_IDMAP=chown ctr create "$d" -t busybox -q --userns --net none || fail "create $d (chown)"
assert_eq "$(idmap "$d")" "{'uid': 1131072, 'gid': 1131072, 'count': 65536, 'shift': 'chown'}" "chowned range"
assert_eq "$(stat -c %u:%g "$T_ROOT/containers/$d/rootfs/bin/busybox")" "1131072:1131072" "busybox chowned"
assert_eq "$(stat -c %u:%g "$T_ROOT/containers/$d/rootfs/etc")" "1131072:1131072" "a directory chowned"
install -m 0755 -o 1131072 -g 1131072 "$PROBE" "$T_ROOT/containers/$d/rootfs/bin/ctr-probe"
ctr start "$d" || fail "start $d"
out=$(ctr exec "$d" -- /bin/ctr-probe uid uidmap owner:/bin/busybox owner:/)
assert_match "$out" 'uidmap=0 1131072 65536' "chowned: uid map"
assert_match "$out" 'owner:/bin/busybox=0:0' "chowned: root's inside"
assert_match "$out" 'owner:/=0:0' "chowned: the root directory is root's"
ctr exec "$d" -- touch /made || fail "touch inside (chown)"
assert_eq "$(stat -c %u:%g "$T_ROOT/containers/$d/rootfs/made")" "1131072:1131072" "chowned: a file made inside, on disk"
ctr stop "$d" --kill

# The mapping is fixed at create.
fp=$(root_fingerprint)
expect_125 "config set userns" ctr config "$c" set security.userns false | grep -q "chosen at create" ||
        fail "config set security.userns: wrong message"
assert_eq "$(root_fingerprint)" "$fp" "a refused config set changes nothing"
assert_eq "$(ctr config "$c" get security.userns)" true "config get security.userns"

# The host's network namespace belongs to the host's user namespace.
expect_125 "--userns --net host" ctr create "$(cname h)" -t busybox --userns --net host | grep -q "security.userns" ||
        fail "--net host: wrong message"
# By default: a user namespace where one applies, none on the host's network; not both flags.
dd=$(cname dflt)
mk "$dd" --net none
assert_eq "$(ctr config "$dd" get security.userns)" true "a default container is user-namespaced"
ctr destroy "$dd"
mk "$dd" --net host
assert_eq "$(ctr config "$dd" get security.userns)" false "none on the host's network"
ctr destroy "$dd"
expect_125 "--userns --no-userns" ctr create "$dd" -t busybox --userns --no-userns | grep -q "exclude each other" ||
        fail "--userns --no-userns: wrong message"

# A full range: one slot of 65536, taken; the next create fails with one line, changing nothing.
printf 'root:2000000:65536\n' > "$sub/subuid.full"
printf 'root:2000000:65536\n' > "$sub/subgid.full"
CTR_SUBUID="$sub/subuid.full" CTR_SUBGID="$sub/subgid.full" mk "$(cname f1)" --userns --net none
assert_eq "$(idmap "$(cname f1)")" "{'uid': 2000000, 'gid': 2000000, 'count': 65536, 'shift': 'mount'}" "the only slot"
fp=$(root_fingerprint)
e=$(CTR_SUBUID="$sub/subuid.full" CTR_SUBGID="$sub/subgid.full" expect_125 "full range" ctr create "$(cname f2)" -t busybox --userns --net none)
assert_match "$e" "no free range of 65536 subordinate uids for root in $sub/subuid.full" "full range message"
assert_eq "$(root_fingerprint)" "$fp" "a full range changes nothing"
assert_eq "$(cat "$sub/subuid.full")" "root:2000000:65536" "subuid untouched"

# A malformed subuid file is named with its line, and nothing is created.
printf '# ranges\nroot:2000000\n' > "$sub/subuid.bad"
fp=$(root_fingerprint)
e=$(CTR_SUBUID="$sub/subuid.bad" expect_125 "malformed subuid" ctr create "$(cname m)" -t busybox --userns --net none)
assert_match "$e" "subuid.bad line 2: 'root:2000000' is not NAME:START:COUNT" "malformed message"
assert_eq "$(root_fingerprint)" "$fp" "a malformed file changes nothing"

for n in "$b" "$c" "$d" "$(cname f1)"; do ctr destroy "$n" || fail "destroy $n"; done

# Snapshots, restore and clones: a file written after a snapshot is gone after restore, one
# written before survives; restore keeps a backup snapshot and is refused on a running
# container; --freeze snapshots a running one; clone gets a new name, hostname, uuid and
# address and an empty machine-id; busybox (dir storage, full copies) and debian (overlay:
# the upper layer only). Bad input: 125, one line, nothing changed.
n=$(cname snap)
mk "$n" --net bridge
ctr start "$n"
ctr exec "$n" -- sh -c 'echo before > /root/before'
expect_125 "snapshot of a running container" ctr snapshot "$n" s1 | grep -q -- "--freeze" || fail "running snapshot message"
assert_match "$(ctr snapshot --freeze "$n" s1)" "s1 \(a full copy" "snapshot --freeze"
assert_eq "$(state_of "$n")" running "thawed after the snapshot"
ctr exec "$n" -- sh -c 'echo after > /root/after; rm /root/before'
expect_125 "restore of a running container" ctr restore "$n" s1 | grep -q "stop it first" || fail "running restore message"
ctr stop "$n" --kill
out=$(ctr restore "$n" s1)
assert_match "$out" "restored s1; the state before is snapshot pre-restore-" "restore keeps a backup"
backup=$(printf '%s' "$out" | sed 's/.*snapshot //')
assert_eq "$(ctr snapshot list -q "$n" | sort | tr '\n' ' ')" "$(printf '%s\n' s1 "$backup" | sort | tr '\n' ' ')" "list"
ctr start "$n"
assert_eq "$(ctr exec "$n" -- sh -c 'cat /root/before; ls /root/after 2>&1 | grep -c "No such"')" "$(printf 'before\n1')" \
        "after restore: the file from before is back, the one from after is gone"
ctr stop "$n" --kill
# The backup brings back what the restore replaced.
ctr restore --no-backup "$n" "$backup" >/dev/null
ctr start "$n"
assert_eq "$(ctr exec "$n" -- cat /root/after)" after "restoring the backup"
ctr stop "$n" --kill
assert_eq "$(ctr snapshot list -q "$n" | wc -l)" 2 "--no-backup made no new snapshot"
# --live is for VMs (tests/vm-nested/t_vm_live.sh): refused here, nothing made.
expect_125 "snapshot --live of a container that is not a VM" ctr snapshot --live "$n" s9 | grep -q "not a --vm container" ||
        fail "snapshot --live message"
expect_125 "restore --live of a container that is not a VM" ctr restore --live "$n" s1 | grep -q "not a --vm container" ||
        fail "restore --live message"
expect_125 "--live with --freeze" ctr snapshot --live --freeze "$n" s9 >/dev/null
assert_eq "$(ctr snapshot list -q "$n" | wc -l)" 2 "the refused --live made nothing"

# Clone: a new identity.
c=$(cname snapc)
ctr clone "$n" "$c"
ctr start "$n"
ctr start "$c"
assert_eq "$(ctr exec "$c" -- hostname)" "$c" "the clone's hostname"
assert_eq "$(ctr exec "$c" -- cat /root/after)" after "the clone has the files"
a1=$(ctr info "$n" --format json | json_field 'd["ipv4"]')
a2=$(ctr info "$c" --format json | json_field 'd["ipv4"]')
[ -n "$a1" ] && [ "$a1" != "$a2" ] || fail "the clone's address ($a2) is not its own (source: $a1)"
u1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$T_ROOT/containers/$n/config.json")
u2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$T_ROOT/containers/$c/config.json")
[ "$u1" != "$u2" ] || fail "the clone kept the uuid"
ctr stop "$n" --kill
ctr stop "$c" --kill
c2=$(cname snapc2)
ctr clone --snapshot s1 "$n" "$c2"
ctr start "$c2"
assert_eq "$(ctr exec "$c2" -- cat /root/before)" before "a clone of a snapshot"
ctr stop "$c2" --kill
ctr snapshot delete "$n" s1
assert_eq "$(ctr snapshot list -q "$n")" "$backup" "delete"

before=$(root_fingerprint)
expect_125 "unknown snapshot" ctr restore "$n" nosuch | grep -q "has no snapshot nosuch" || fail "unknown snapshot message"
expect_125 "bad snapshot name" ctr snapshot "$n" ../x >/dev/null
expect_125 "clone onto an existing name" ctr clone "$n" "$c" | grep -q "already exists" || fail "clone exists message"
expect_125 "clone of a missing container" ctr clone "$(cname nosuch)" "$(cname snapx)" >/dev/null
assert_eq "$(root_fingerprint)" "$before" "refused commands changed the state root"
ctr destroy "$n"
ctr destroy "$c"
ctr destroy "$c2"

# A tree whose etc is a symlink out (made by root inside, or brought by an archive): the
# clone's new machine-id and hostname resolve inside the tree, never at the link's host
# target. The target here is a test directory, so a broken check writes only there.
x=$(cname snaps)
mk "$x" --net none
mkdir "$T_ROOT/outside"
mv "$T_ROOT/containers/$x/rootfs/etc" "$T_ROOT/containers/$x/rootfs/etc.real"
ln -s "$T_ROOT/outside" "$T_ROOT/containers/$x/rootfs/etc"
before=$(root_fingerprint)
expect_125 "clone of a tree whose etc leads out" ctr clone "$x" "$(cname snapy)" | grep -q "inside the tree" ||
        fail "clone through a symlinked etc: message"
[ -z "$(ls -A "$T_ROOT/outside")" ] || fail "clone wrote through the tree's etc symlink: $(ls "$T_ROOT/outside")"
assert_eq "$(root_fingerprint)" "$before" "the refused clone left something"
ctr destroy "$x"
rmdir "$T_ROOT/outside"

# Overlay storage (the debian tree): a snapshot is the upper layer, not the whole system.
if ! ls -d "$CTR_CI_CACHE"/templates/debian-*/current >/dev/null 2>&1; then
        echo "skipped: no debian fixture in $CTR_CI_CACHE (make debian-fixture)"
        exit 0
fi
d=$(cname snapd)
CTR_CACHE=$CTR_CI_CACHE ctr create "$d" -t debian -q --net none
echo marker > "$T_ROOT/containers/$d/upper/root/marker" 2>/dev/null || { mkdir -p "$T_ROOT/containers/$d/upper/root"; echo marker > "$T_ROOT/containers/$d/upper/root/marker"; }
assert_match "$(ctr snapshot "$d" s)" "the overlay's upper layer" "overlay snapshot kind"
size=$(ctr snapshot list "$d" --format json | json_field 'd[0]["bytes"]')
[ "$size" -lt 20000000 ] || fail "an overlay snapshot took $size bytes: the lower was copied"
rm "$T_ROOT/containers/$d/upper/root/marker"
echo after > "$T_ROOT/containers/$d/upper/root/after"
ctr restore --no-backup "$d" s >/dev/null
[ -f "$T_ROOT/containers/$d/upper/root/marker" ] || fail "restore did not bring the upper layer back"
[ ! -e "$T_ROOT/containers/$d/upper/root/after" ] || fail "a file written after the snapshot survived the restore"
# An overlay export is the merged tree as the container sees it: the upper layer's changes
# (a changed file, a deletion's whiteout) win over the template below.
echo changed > "$T_ROOT/containers/$d/upper/etc/debian_version"
mknod "$T_ROOT/containers/$d/upper/etc/issue" c 0 0
ctr export "$d" "$T_ROOT/d.tar"
tar -xOf "$T_ROOT/d.tar" rootfs.tar >"$T_ROOT/d-rootfs.tar"
assert_eq "$(tar -xOf "$T_ROOT/d-rootfs.tar" ./etc/debian_version)" changed "the export has the upper layer's version of a file"
tar -tf "$T_ROOT/d-rootfs.tar" | grep -qx './root/marker' || fail "the export lacks a file only in the upper layer"
! tar -tf "$T_ROOT/d-rootfs.tar" | grep -qx './etc/issue' || fail "a file deleted in the container came back in the export"
tar -tf "$T_ROOT/d-rootfs.tar" | grep -qx './etc/passwd' || fail "the export lacks the template's files"
rm -f "$T_ROOT/d.tar" "$T_ROOT/d-rootfs.tar"
ctr destroy "$d"

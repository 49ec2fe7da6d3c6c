# Bind mounts (-v), read-only ones, and the host's mount table untouched by start and destroy.
n=$(cname vol)
src=$(mktemp -d "$T_ROOT/src.XXXX")
echo hello > "$src/file"
before=$(sort /proc/self/mountinfo | md5sum)
mk "$n" -v "$src:/data" -v "$src:/ro:ro"
ctr start "$n"
assert_eq "$(sort /proc/self/mountinfo | md5sum)" "$before" "host mount table after start"
assert_eq "$(ctr exec "$n" -- cat /data/file)" hello "bind mount visible"
ctr exec "$n" -- sh -c 'echo written > /data/new'
assert_eq "$(cat "$src/new")" written "rw bind writes through"
assert_eq "$(ctr exec "$n" -- ctr-probe writable:/ro/file)" "writable:/ro/file=0" "ro bind is read-only"
rc=0
ctr exec "$n" -- sh -c 'echo x > /ro/other' 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "write to a read-only bind succeeded"
# Host files outside the binds are invisible.
assert_eq "$(ctr exec "$n" -- ctr-probe readable:$src/file)" "readable:$src/file=0" "host path invisible"
ctr stop "$n" --kill
ctr destroy "$n"
assert_eq "$(sort /proc/self/mountinfo | md5sum)" "$before" "host mount table after destroy"
rm -rf "$src"

# A symlink planted in the rootfs cannot redirect a mount onto the host.
n2=$(cname symlink)
mk "$n2"
rm -rf "$T_ROOT/containers/$n2/rootfs/run"
mkdir -p "$T_ROOT/escape-target"
ln -s "$T_ROOT/escape-target" "$T_ROOT/containers/$n2/rootfs/run"
# Dangling inside the rootfs: the start fails cleanly instead of mounting on the host.
e=$(expect_125 "symlinked /run" ctr start "$n2")
assert_match "$e" "open /run" "names the symlinked target"
assert_eq "$(grep -c "escape-target" /proc/self/mountinfo)" 0 "no mount on the symlink's host target"
# When the same path exists inside the rootfs, the link resolves there.
mkdir -p "$T_ROOT/containers/$n2/rootfs/$T_ROOT/escape-target"
ctr start "$n2"
assert_eq "$(grep -c "escape-target" /proc/self/mountinfo)" 0 "no mount on the symlink's host target"
assert_match "$(ctr exec "$n2" -- ctr-probe mountpoints)" "$T_ROOT/escape-target" "mounted inside the rootfs"
ctr stop "$n2" --kill
ctr destroy "$n2"
rm -rf "$T_ROOT/escape-target"

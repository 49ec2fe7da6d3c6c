# make install next to containerd: a ctr that is not ours (containerd's client, which Debian's
# containerd puts in /usr/bin) is never replaced without FORCE=1, and nothing changes when it
# is refused; ours is replaced; the default prefix installs beside it.
top=$(cd "$T_HERE/../.." && pwd)
d=$T_ROOT/dest
mkdir -p "$d/usr/bin"
printf '#!/bin/sh\necho "ctr github.com/containerd/containerd 1.6.20~ds1"\n' > "$d/usr/bin/ctr"
chmod 0755 "$d/usr/bin/ctr"
cp -p "$d/usr/bin/ctr" "$T_ROOT/foreign"
out=$(make -s -C "$top" install DESTDIR="$d" PREFIX=/usr 2>&1) && fail "make install replaced a foreign ctr: $out"
assert_match "$out" "make install: $d/usr/bin/ctr is not ctr's \(it says: ctr github.com/containerd/containerd" "the refusal"
assert_match "$out" "PREFIX=/usr/local, or FORCE=1" "what to do instead"
cmp -s "$d/usr/bin/ctr" "$T_ROOT/foreign" || fail "the foreign ctr changed"
[ -e "$d/usr/bin/ctr-oci" ] && fail "the refused install left ctr-oci"
[ -d "$d/usr/share/man" ] && fail "the refused install left man pages"
# The default prefix keeps both.
make -s -C "$top" install DESTDIR="$d" >/dev/null || fail "install under /usr/local"
"$d/usr/local/bin/ctr" --version | grep -Eq '^ctr [0-9]' || fail "ctr under /usr/local"
cmp -s "$d/usr/bin/ctr" "$T_ROOT/foreign" || fail "installing under /usr/local touched /usr/bin/ctr"
# FORCE=1 replaces it; once ours, a plain install replaces it again.
make -s -C "$top" install DESTDIR="$d" PREFIX=/usr FORCE=1 >/dev/null || fail "FORCE=1"
"$d/usr/bin/ctr" --version | grep -Eq '^ctr [0-9]' || fail "FORCE=1 did not install ours"
make -s -C "$top" install DESTDIR="$d" PREFIX=/usr >/dev/null || fail "replacing our own ctr"

# export -> destroy -> import gives the same tree (names, modes, owners, sizes, link targets,
# contents) and a container that starts; .tar and .tar.zst. Hostile or damaged archives are
# refused with one line and exit 125, and leave nothing: '..' and absolute members, a member
# written through a symlink, a block device, a sparse member, a truncated file, a corrupted
# tree, a newer format version, a foreign tar.
tree_sum() { (cd "$1" && find . -printf '%p %m %U %G %y %l\n' | LC_ALL=C sort &&
        find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2) | sha256sum | cut -d' ' -f1; }
n=$(cname exp)
mk "$n" --net none
ctr start "$n"
ctr exec "$n" -- sh -c 'echo data > /root/f; ln -s /etc/passwd /root/link; chmod 4755 /root/f'
expect_125 "export of a running container" ctr export "$n" "$T_ROOT/x.tar" | grep -q "stop it first" || fail "running message"
ctr stop "$n" --kill
sum=$(tree_sum "$T_ROOT/containers/$n/rootfs")
ctr export "$n" "$T_ROOT/x.tar"
ctr export "$n" "$T_ROOT/x.tar.zst"
[ "$(head -c 4 "$T_ROOT/x.tar.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail "the .zst export is not zstd"
ctr destroy "$n"
assert_eq "$(ctr import "$T_ROOT/x.tar")" "$n" "import takes the archive's name"
assert_eq "$(tree_sum "$T_ROOT/containers/$n/rootfs")" "$sum" "the imported tree is the exported one"
ctr start "$n"
assert_eq "$(ctr exec "$n" -- cat /root/f)" data "the imported container runs"
ctr stop "$n" --kill
m=$(cname expz)
ctr import "$T_ROOT/x.tar.zst" "$m" >/dev/null
assert_eq "$(tree_sum "$T_ROOT/containers/$m/rootfs")" "$sum" "the .zst import"
u1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$T_ROOT/containers/$n/config.json")
u2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$T_ROOT/containers/$m/config.json")
[ "$u1" != "$u2" ] || fail "two imports share a uuid"
expect_125 "import onto an existing name" ctr import "$T_ROOT/x.tar" "$m" | grep -q "already exists" || fail "exists message"

# Hostile and damaged archives, made from the good one.
mkdir "$T_ROOT/parts"
tar -C "$T_ROOT/parts" -xf "$T_ROOT/x.tar"
python3 - "$T_ROOT" <<'EOF'
import hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
parts = os.path.join(root, "parts")
cfg = open(os.path.join(parts, "config.json"), "rb").read()

def outer(name, tree_bytes, version=1, tamper=False):
    man = {"version": version, "name": "hostile", "created": "2026-01-01T00:00:00Z",
           "rootfs_sha256": hashlib.sha256(tree_bytes).hexdigest(),
           "config_sha256": hashlib.sha256(cfg).hexdigest()}
    if tamper:
        tree_bytes = tree_bytes[:-2048] + b"X" * 2048
    with tarfile.open(os.path.join(root, name), "w", format=tarfile.GNU_FORMAT) as t:
        for n, data in (("ctr-export.json", json.dumps(man).encode()), ("config.json", cfg), ("rootfs.tar", tree_bytes)):
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))

def tree(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("./bin"); d.type = tarfile.DIRTYPE; t.addfile(d)
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return b.getvalue()

def f(name, data=b"x"):
    ti = tarfile.TarInfo(name); ti.size = len(data); return (ti, data)

lnk = tarfile.TarInfo("./escape"); lnk.type = tarfile.SYMTYPE; lnk.linkname = "/"
blk = tarfile.TarInfo("./dev/sda"); blk.type = tarfile.BLKTYPE; blk.devmajor, blk.devminor = 8, 0
hl = tarfile.TarInfo("./h"); hl.type = tarfile.LNKTYPE; hl.linkname = "../../etc/shadow"
sparse = tarfile.TarInfo("./big"); sparse.size = 1
sparse.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": str(1 << 40)}
cases = {
    "dotdot.tar": tree([f("./../escape")]),
    "absolute.tar": tree([f("/etc/evil")]),
    "through-symlink.tar": tree([(lnk, None), f("./escape/etc/evil")]),
    "blockdev.tar": tree([(blk, None)]),
    "hardlink-out.tar": tree([(hl, None)]),
    "sparse.tar": tree([(sparse, b"x")]),
}
for name, t in cases.items():
    outer(name, t)
outer("version99.tar", tree([f("./ok")]), version=99)
outer("corrupt.tar", open(os.path.join(parts, "rootfs.tar"), "rb").read(), tamper=True)
good = open(os.path.join(root, "x.tar"), "rb").read()
open(os.path.join(root, "truncated.tar"), "wb").write(good[: len(good) // 2])
with tarfile.open(os.path.join(root, "foreign.tar"), "w") as t:
    ti = tarfile.TarInfo("hello.txt"); ti.size = 2; t.addfile(ti, io.BytesIO(b"hi"))
EOF
before=$(root_fingerprint)
for c in dotdot:"climbs out" absolute:"absolute" through-symlink:"through a symlink" blockdev:"block device" \
         hardlink-out:"points outside" sparse:"sparse" version99:"format version 99" corrupt:"checksum does not match" \
         truncated:"truncated" foreign:"not a ctr export"; do
        file=${c%%:*}
        want=${c#*:}
        expect_125 "hostile $file" ctr import "$T_ROOT/$file.tar" "$(cname exph)" | grep -q "$want" ||
                fail "import of $file.tar: the message lacks '$want'"
done
assert_eq "$(root_fingerprint)" "$before" "refused imports changed the state root"
[ -e /etc/evil ] || [ -e "$T_ROOT/escape" ] && fail "a hostile member was written"
ls -a "$T_ROOT/containers" | grep -q import && fail "an import left its temporary directory"
ctr destroy "$n"
ctr destroy "$m"

# The download template against an image server on 127.0.0.1 in LXC's layout, built here with a
# signing key made for this test: a good image is created (cached, overlay) and boots; a
# tampered image, a wrong key and an unknown release fail with one clear line and leave nothing.

for tool in gpg gpgv xz; do
        command -v $tool > /dev/null || { echo "skipped: $tool not installed"; exit 0; }
done
n=$(cname dl)
srv_root="$T_ROOT/srv"
export GNUPGHOME="$T_ROOT/gnupg"
mkdir -p "$GNUPGHOME" "$srv_root/meta/1.0" "$srv_root/images/bb/1/amd64/default/20260101_00:00"
chmod 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "ctr test images <test@invalid>" ed25519 sign never 2> /dev/null
gpg --batch --quiet --export > "$T_ROOT/keyring.gpg"
img="$srv_root/images/bb/1/amd64/default/20260101_00:00"

# The image: a busybox tree, as an image server would ship it.
tree="$T_ROOT/tree"
mkdir -p "$tree"
"$T_HERE/../../templates/busybox" --rootfs "$tree" --name img --arch amd64 --cache "$T_ROOT" > /dev/null
install -m 0755 "$PROBE" "$tree/bin/ctr-probe"
tar -C "$tree" --numeric-owner -cJf "$img/rootfs.tar.xz" .
gpg --batch --quiet --armor --detach-sign -o "$img/rootfs.tar.xz.asc" "$img/rootfs.tar.xz"
(cd "$img" && sha256sum rootfs.tar.xz > SHA256SUMS)
printf 'bb;1;amd64;default;20260101_00:00;/images/bb/1/amd64/default/20260101_00:00/\n' > "$srv_root/meta/1.0/index-system"
gpg --batch --quiet --armor --detach-sign -o "$srv_root/meta/1.0/index-system.asc" "$srv_root/meta/1.0/index-system"

port_file="$T_ROOT/port"
python3 - "$srv_root" "$port_file" > /dev/null 2>&1 <<'PY' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()
PY
srv=$!
trap 'kill $srv 2> /dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$port_file")"
export CTR_DOWNLOAD_KEYRING="$T_ROOT/keyring.gpg"

# Errors first: nothing may be left by them (in containers/ and the cache; the server's files
# and keys live beside them in the test root).
state_print() { find "$T_ROOT/containers" "$T_ROOT/cache" -printf '%p %s %m %y\n' 2> /dev/null | sort | md5sum; }
mkdir -p "$T_ROOT/containers" # the state root's skeleton, made by any first create
before=$(state_print)
e=$(expect_125 "unknown release" ctr create "$n" -t download --server "$url" --dist bb -r 2)
assert_match "$e" "template: download: no image of bb 2 for amd64 on $url \(releases of bb: 1 \)" "unknown release"
e=$(expect_125 "no dist" ctr create "$n" -t download --server "$url" -r 1)
assert_match "$e" "no distribution: pass --dist" "no dist"
e=$(CTR_DOWNLOAD_KEYRING=/nonexistent expect_125 "no key" ctr create "$n" -t download --server "$url" --dist bb -r 1)
assert_match "$e" "no signing key for 127.0.0.1" "no key"
# A key that did not sign the index.
other="$T_ROOT/other"
mkdir -p "$other" && chmod 700 "$other"
GNUPGHOME=$other gpg --batch --quiet --passphrase '' --quick-gen-key "someone else <x@invalid>" ed25519 sign never 2> /dev/null
GNUPGHOME=$other gpg --batch --quiet --export > "$T_ROOT/other.gpg"
e=$(CTR_DOWNLOAD_KEYRING=$T_ROOT/other.gpg expect_125 "wrong key" ctr create "$n" -t download --server "$url" --dist bb -r 1)
assert_match "$e" "image index: signature does not verify" "wrong key"
# A tampered image: the signature no longer matches.
cp "$img/rootfs.tar.xz" "$T_ROOT/good.tar.xz"
printf 'x' >> "$img/rootfs.tar.xz"
e=$(expect_125 "tampered" ctr create "$n" -t download --server "$url" --dist bb -r 1)
assert_match "$e" "rootfs.tar.xz: signature does not verify" "tampered image"
cp "$T_ROOT/good.tar.xz" "$img/rootfs.tar.xz"
rm -rf "$T_ROOT/other"
assert_eq "$(state_print)" "$before" "failed downloads left something"

# The good image: cached once, overlay on top, boots.
out=$(ctr create "$n" -t download --server "$url" --dist bb -r 1)
assert_match "$out" "\[5/5\] extracting" "progress"
assert_match "$out" "storage overlay" "overlay storage"
ls -d "$T_ROOT/cache/templates/download-bb-1-amd64/current" > /dev/null || fail "no cache entry"
assert_eq "$(json_field 'd["template"]["dist"]' < "$T_ROOT/containers/$n/config.json")" bb "template.dist"
# Second create: from the cache, no server needed.
kill $srv
ctr create "$n-2" -t download --dist bb -r 1 -q --server "http://127.0.0.1:1" ||
        fail "a warm cache must not contact the server"
ctr start "$n" || fail "start: $(tail -3 "$T_ROOT/log/$n.monitor.log")"
assert_eq "$(ctr exec "$n" -- /bin/hostname)" "$n" "hostname inside"
ctr exec "$n" -- /bin/sh -c 'echo changed > /etc/motd' || fail "exec sh"
ctr stop "$n"
[ -e "$T_ROOT/containers/$n/upper/etc/motd" ] || fail "a change inside lands in the upper layer"
lower=$(json_field 'd["storage"]["lower"]' < "$T_ROOT/containers/$n/config.json")
[ ! -e "$lower/etc/motd" ] || fail "the cached lower was written"
ctr destroy "$n"
ctr destroy "$n-2"

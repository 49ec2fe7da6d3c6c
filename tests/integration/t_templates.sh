# Template contract: progress (plain lines, JSON events, a bar on a terminal), the container
# named after its template, bad inputs (unknown template/release, unreachable mirror: one error
# line, nothing left), and an interrupted create that leaves no container, cache entry, process
# or mount behind. All traffic stays on 127.0.0.1.

n=$(cname tpl)

# Plain lines on stdout when not a terminal; the error channel stays empty on success.
out=$(ctr create "$n" -t busybox 2>"$T_ROOT/err")
assert_match "$out" '^\[1/3\] layout' "plain progress"
assert_match "$out" "Created $n \(template busybox, storage dir\)" "created line"
assert_eq "$(cat "$T_ROOT/err")" "" "stderr of a good create"
# Post-create configuration by ctr.
assert_eq "$(cat "$T_ROOT/containers/$n/rootfs/etc/hostname")" "$n" "hostname file"
assert_match "$(cat "$T_ROOT/containers/$n/rootfs/etc/hosts")" "127.0.1.1	$n" "hosts file"
[ -e "$T_ROOT/containers/$n/rootfs/etc/machine-id" ] && [ ! -s "$T_ROOT/containers/$n/rootfs/etc/machine-id" ] ||
        fail "machine-id must exist and be empty"
assert_match "$(head -1 "$T_ROOT/containers/$n/rootfs/etc/shadow")" '^root:[*!]' "root password locked"
uuid=$(json_field 'd["uuid"]' < "$T_ROOT/containers/$n/config.json")
assert_match "$uuid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "uuid in config"

# JSON events, one per line, ending with "created".
ctr --format json create "$n-j" -t busybox > "$T_ROOT/events"
python3 - "$T_ROOT/events" "$n-j" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
steps = [e for e in ev if e["event"] == "step"]
assert [(e["step"], e["total"]) for e in steps] == [(1, 3), (2, 3), (3, 3)], steps
assert ev[-1] == {"event": "created", "name": sys.argv[2]}, ev[-1]
PY

# On a terminal: one redrawn line with a bar.
tty_out=$(in_pty "$CTR" --root "$T_ROOT" create "$n-t" -t busybox)
assert_match "$tty_out" '\[#+\.*\] 1/3 layout' "progress bar"
assert_match "$tty_out" "Created $n-t" "created after the bar"

# No -t: the name is the template (documented rule), once.
ctr create busybox -q
assert_eq "$(json_field 'd["template"]["name"]' < "$T_ROOT/containers/busybox/config.json")" busybox "named after template"
e=$(expect_125 "second create busybox" ctr create busybox)
assert_match "$e" "already exists" "second create"
ctr destroy busybox

# Bad inputs change nothing.
e=$(expect_125 "unknown template" ctr create "$n-x" -t nosuch)
assert_match "$e" "no template named 'nosuch'" "unknown template"
e=$(expect_125 "bad storage" ctr create "$n-x" -t busybox --storage overlay)
assert_match "$e" "storage: template busybox builds each container afresh" "overlay needs a cached template"
e=$(expect_125 "bad storage name" ctr create "$n-x" -t busybox --storage zfs)
assert_match "$e" "--storage: 'zfs' is not overlay or dir" "storage flag"

# A mirror that answers 404 for every release, and a port where nothing listens.
www="$T_ROOT/www"
mkdir -p "$www/debian"
port_file="$T_ROOT/port"
python3 - "$www" "$port_file" > /dev/null 2>&1 <<'PY' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()
PY
srv=$!
trap 'kill $srv 2> /dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")
before=$(root_fingerprint)
e=$(expect_125 "unknown template" ctr create "$n-x" -t nosuch)
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if command -v debootstrap > /dev/null; then
        e=$(expect_125 "unknown release" ctr create "$n-x" -t debian -r nosuchrelease --mirror "http://127.0.0.1:$port/debian")
        assert_match "$e" "^ctr: create $n-x: template: debian: release 'nosuchrelease' not found at http://127.0.0.1:$port/debian" "unknown release"
        e=$(expect_125 "unreachable mirror" ctr create "$n-x" -t debian --mirror "http://127.0.0.1:$dead_port/debian")
        assert_match "$e" "cannot reach the mirror http://127.0.0.1:$dead_port/debian" "unreachable mirror"
        e=$(CTR_MIRROR="http://127.0.0.1:$dead_port/debian" expect_125 "CTR_MIRROR" ctr create "$n-x" -t debian)
        assert_match "$e" "cannot reach the mirror http://127.0.0.1:$dead_port/debian" "CTR_MIRROR is used"
        e=$(expect_125 "ubuntu without keyring or mirror" env CTR_UBUNTU_KEYRING=/nonexistent "$CTR" --root "$T_ROOT" create "$n-x" -t ubuntu --mirror "http://127.0.0.1:$dead_port/ubuntu")
        assert_match "$e" "template: ubuntu: no ubuntu archive keyring at /nonexistent" "ubuntu keyring"
fi
assert_eq "$(root_fingerprint)" "$before" "failed creates left something"
[ -z "$(ls -A "$T_ROOT/cache/templates" 2>/dev/null)" ] || fail "failed builds left cache entries: $(ls -A "$T_ROOT/cache/templates")"

# SIGINT mid-create: the template's process group dies, its mounts vanish with its mount
# namespace, and neither the container nor the cache build is left.
tdir="$T_ROOT/tpl"
mkdir -p "$tdir"
cat > "$tdir/slowpoke" <<'SH'
#!/bin/sh
# description: test template that never finishes
# cache: yes
while [ $# -gt 0 ]; do case "$1" in --rootfs) rootfs=$2 ;; esac; shift 2; done
mkdir -p "$rootfs/mnt" && mount -t tmpfs none "$rootfs/mnt"
echo "step 1/2: pretending"
sleep 1000 &
echo $! > "$PIDS/child"
echo $$ > "$PIDS/leader"
wait
SH
chmod 755 "$tdir/slowpoke"
export PIDS="$T_ROOT/pids"
mkdir -p "$PIDS"
CTR_TEMPLATE_DIR=$tdir "$CTR" --root "$T_ROOT" create "$n-int" -t slowpoke > "$T_ROOT/int.out" 2> "$T_ROOT/int.err" &
cpid=$!
for _ in $(seq 100); do [ -s "$PIDS/child" ] && [ -s "$PIDS/leader" ] && break; sleep 0.1; done
[ -s "$PIDS/child" ] || fail "slow template did not start: $(cat "$T_ROOT/int.err")"
ls "$T_ROOT/cache/templates/slowpoke-default-"*/.build-* > /dev/null 2>&1 || fail "no build in progress"
kill -INT $cpid
rc=0
wait $cpid || rc=$?
assert_eq "$rc" 125 "interrupted create exit"
assert_match "$(cat "$T_ROOT/int.err")" "slowpoke interrupted" "interrupted message"
for f in child leader; do
        p=$(cat "$PIDS/$f")
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$p" 2>/dev/null; then fail "template $f $p still running"; fi
done
# The template mounted a tmpfs in its tree: never visible on the host, gone with its namespace.
if grep -q -- "$T_ROOT" /proc/self/mountinfo; then fail "mounts under the state root: $(grep -- "$T_ROOT" /proc/self/mountinfo)"; fi
[ ! -e "$T_ROOT/containers/$n-int" ] || fail "interrupted container exists"
[ -z "$(ls -A "$T_ROOT/containers" | grep -- "$n-int")" ] || fail "temp dir left: $(ls -A "$T_ROOT/containers")"
[ -z "$(ls -A "$T_ROOT/cache/templates" 2>/dev/null)" ] || fail "cache left: $(ls -A "$T_ROOT/cache/templates")"

ctr destroy "$n"
ctr destroy "$n-j"
ctr destroy "$n-t"

# The cache: a cached template builds once; refresh makes a new current build, containers keep
# the build they were made on, and builds no container uses are pruned.
cat > "$tdir/quick" <<'SH'
#!/bin/sh
# description: test template, cached, records each build
# default-release: one
# cache: yes
while [ $# -gt 0 ]; do case "$1" in --rootfs) rootfs=$2 ;; --release) rel=$2 ;; esac; shift 2; done
mkdir -p "$rootfs/etc" "$rootfs/sbin"
date +%s%N > "$rootfs/etc/build-id"
echo "$rel" > "$rootfs/etc/release"
echo "step 1/1: built"
SH
chmod 755 "$tdir/quick"
# The shipped templates stay reachable whatever binary runs (the sanitizer build has no templates/
# beside it and relies on CTR_TEMPLATE_DIR).
ln -s "$T_HERE/../../templates/busybox" "$tdir/busybox"
export CTR_TEMPLATE_DIR=$tdir
ctr create "$n-c1" -t quick -q
lower1=$(json_field 'd["storage"]["lower"]' < "$T_ROOT/containers/$n-c1/config.json")
assert_eq "$(json_field 'd["template"]["release"]' < "$T_ROOT/containers/$n-c1/config.json")" one "default release recorded"
ctr create "$n-c2" -t quick -q
assert_eq "$(json_field 'd["storage"]["lower"]' < "$T_ROOT/containers/$n-c2/config.json")" "$lower1" "second create uses the cache"
assert_match "$(ctr template list)" "quick-one-" "template list shows the cached tree"
ctr template refresh quick -q
ctr create "$n-c3" -t quick -q
lower3=$(json_field 'd["storage"]["lower"]' < "$T_ROOT/containers/$n-c3/config.json")
[ "$lower3" != "$lower1" ] || fail "refresh did not make a new build"
[ -d "$lower1" ] || fail "refresh removed a build containers use"
ctr destroy "$n-c1"
ctr destroy "$n-c2"
ctr template refresh quick -q
[ ! -e "$lower1" ] || fail "an unused old build was kept"
[ -d "$lower3" ] || fail "the build $n-c3 uses was pruned"
ctr create "$n-c4" -t quick -r two -q
assert_eq "$(cat "$(json_field 'd["storage"]["lower"]' < "$T_ROOT/containers/$n-c4/config.json")/etc/release")" two "-r picks the release"
e=$(expect_125 "refresh of an uncached template" ctr template refresh busybox)
assert_match "$e" "template busybox is not cached" "refresh busybox"
ctr destroy "$n-c3"
ctr destroy "$n-c4"
unset CTR_TEMPLATE_DIR

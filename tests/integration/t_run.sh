# ctr run: exit status passthrough (0, 1, 77, SIGKILL -> 137, not found -> 127), stdout and stderr
# apart and byte-exact (10 MB of binary data), stdin piped in, --timeout (124, nothing left),
# --read-only with --tmpfs, -v (host files outside it invisible), -u/-w/-e, --json-status-fd
# events checked against the cgroup, a user namespace by default (not with --no-userns) with
# read-write volumes idmapped to their owners, --keep and --from, 50 parallel runs leaving
# nothing, and bad input (125, one line, nothing made).
R() { "$CTR" --root "$T_ROOT" run "$@"; }
st() { local s=0; "$@" >/dev/null 2>&1 || s=$?; echo "$s"; }
assert_eq "$(st R -t busybox -- true)" 0 "status 0"
assert_eq "$(st R -t busybox -- false)" 1 "status 1"
assert_eq "$(st R -t busybox -- sh -c 'exit 77')" 77 "status 77"
assert_eq "$(st R -t busybox -- no-such-command)" 127 "a missing command is 127"
assert_match "$(R -t busybox -- no-such-command 2>&1)" "^ctr: run run-[0-9a-f]+: exec: no-such-command: No such file" "its message"

# SIGKILL from outside: 128+9.
R -t busybox --json-status-fd 3 -- sleep 100 3>"$T_ROOT/kill.json" &
runner=$!
for _ in $(seq 100); do grep -q started "$T_ROOT/kill.json" 2>/dev/null && break; sleep 0.05; done
pid=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["started"]["pid"])' "$T_ROOT/kill.json")
kill -KILL "$pid"
s=0
wait "$runner" || s=$?
assert_eq "$s" 137 "killed by SIGKILL"

# stdout and stderr byte-exact and apart, 10 MB of binary output; stdin passes through.
head -c 10485760 /dev/urandom > "$T_ROOT/blob"
R -t busybox -v "$T_ROOT:/h:ro" -- sh -c 'cat /h/blob; echo to-stderr >&2' >"$T_ROOT/out" 2>"$T_ROOT/err"
cmp -s "$T_ROOT/blob" "$T_ROOT/out" || fail "stdout is not byte-exact"
assert_eq "$(cat "$T_ROOT/err")" to-stderr "stderr apart"
assert_eq "$(printf 'line1\nline2\n' | R -t busybox -- sh -c 'wc -l')" 2 "stdin piped in"
R -t busybox -- cat < "$T_ROOT/blob" | cmp -s - "$T_ROOT/blob" || fail "binary stdin through cat"

# --timeout kills the whole cgroup (a child that ignores SIGTERM included) and says so.
start=$(date +%s)
err=$(R -t busybox --timeout 1 -- sh -c 'trap "" TERM; sleep 100 & sleep 100' 2>&1) && s=0 || s=$?
assert_eq "$s" 124 "timeout status"
assert_match "$err" "timeout: killed after 1 s" "timeout message"
[ $(($(date +%s) - start)) -lt 10 ] || fail "the timeout took too long"

# Read-only root with a writable tmpfs; -v read-only; host files outside -v are not there.
assert_match "$(R -t busybox --read-only --tmpfs /scratch -- sh -c 'touch /x 2>&1')" \
        "Read-only file system" "read-only root"
assert_match "$(R -t busybox --read-only --tmpfs /scratch -- sh -c 'touch /scratch/y && echo ok')" "^ok$" "tmpfs writable"
echo secret > "$T_ROOT/outside"
assert_eq "$(R -t busybox -- sh -c "cat '$T_ROOT/outside' 2>/dev/null || echo invisible")" invisible "host files invisible"
assert_match "$(R -t busybox -v "$T_ROOT:/h:ro" -- sh -c '(echo x > /h/new) 2>&1')" "Read-only file system" "-v :ro"
[ -e "$T_ROOT/new" ] && fail "a read-only volume was written"
assert_eq "$(R -t busybox -u nobody -w /tmp -e FOO=bar -- sh -c 'echo $(id -u) $PWD $FOO')" "65534 /tmp bar" "-u -w -e"
assert_eq "$(R -t busybox -- grep NoNewPrivs /proc/self/status | awk '{print $2}')" 1 "no_new_privs by default"
assert_eq "$(R -t busybox -- grep Seccomp: /proc/self/status | awk '{print $2}')" 2 "the seccomp filter"
assert_eq "$(R -t busybox -- ls /sys/class/net | tr '\n' ' ')" "lo " "no network by default"

# A user namespace by default: root inside is a high host uid; --no-userns is the host's root.
assert_match "$(R -t busybox -- cat /proc/self/uid_map)" '^ *0 +[1-9][0-9]{6,} +65536$' "uid map of a default run"
assert_match "$(R -t busybox -- cat /proc/self/gid_map)" '^ *0 +[1-9][0-9]{6,} +65536$' "gid map of a default run"
assert_match "$(R -t busybox --no-userns -- cat /proc/self/uid_map)" '^ *0 +0 +4294967295$' "--no-userns: the identity"
assert_match "$(R -t busybox --userns -- cat /proc/self/uid_map)" '^ *0 +[1-9][0-9]{6,} +65536$' "--userns is the default"
# A read-write volume: its owner is root inside, what root writes there is the owner's on the
# host; a file of another host user is nobody's and out of root's reach; :ro keeps host owners.
for owner in 0:0 4242:4343; do
        ws=$(mktemp -d "$T_ROOT/ws.XXXX")
        echo src > "$ws/src"
        echo other > "$ws/other"
        chown "$owner" "$ws" "$ws/src"
        chown 1234:1234 "$ws/other"
        out=$(R -t busybox -v "$ws:/src" -w /src -- sh -c 'stat -c %u:%g /src /src/src /src/other
                echo made > made; mkdir dir; echo more >> src; (echo x >> other) 2>/dev/null || echo refused')
        assert_eq "$(echo $out)" "0:0 0:0 65534:65534 refused" "volume of $owner seen inside"
        assert_eq "$(stat -c %u:%g "$ws/made" "$ws/dir" "$ws/src" | sort -u)" "$owner" "files root made in a volume of $owner"
        assert_eq "$(cat "$ws/src")" "src
more" "root inside wrote the owner's file ($owner)"
        assert_eq "$(cat "$ws/other")" other "another user's file untouched ($owner)"
        # Not idmapped, a :ro volume is read as "others" may: mktemp's 0700 shuts root inside out.
        assert_match "$(R -t busybox -v "$ws:/ro:ro" -- stat -c %u:%g /ro/src 2>&1)" "Permission denied" ":ro of a 0700 directory ($owner)"
        chmod 0755 "$ws"
        assert_eq "$(R -t busybox -v "$ws:/ro:ro" -- stat -c %u:%g /ro/src)" 65534:65534 ":ro is not idmapped ($owner)"
        assert_eq "$(R -t busybox --no-userns -v "$ws:/src" -- sh -c 'stat -c %u:%g /src/src; touch /src/nu; stat -c %u:%g /src/nu')" \
                "$owner
0:0" "--no-userns: host owners, root is root ($owner)"
done
# A filesystem that refuses idmapped mounts (sysfs): one line naming the volume; --no-userns binds it.
e=$(expect_125 "sysfs volume" R -t busybox -v /sys/kernel/mm:/mm -- true)
assert_match "$e" "volume: /sys/kernel/mm:/mm: the filesystem of /sys/kernel/mm .*refuses idmapped mounts.*--no-userns" \
        "refused idmap message"
assert_match "$(R -t busybox --no-userns -v /sys/kernel/mm:/mm -- ls /mm)" "transparent_hugepage" "--no-userns binds sysfs"
assert_eq "$(R -t busybox -v /sys/kernel/mm:/mm:ro -- ls /mm | grep -c transparent_hugepage)" 1 "a read-only sysfs volume needs no idmap"
expect_125 "--userns --no-userns" R -t busybox --userns --no-userns -- true | grep -q "exclude each other" ||
        fail "--userns --no-userns message"

# JSON status: two events, truthful against what the kernel saw.
R -t busybox --json-status-fd 3 -- sh -c 'cat /proc/self/ns/pid >/dev/null; exit 5' 3>"$T_ROOT/st.json" || true
python3 - "$T_ROOT/st.json" <<'EOF' || fail "JSON status: $(cat "$T_ROOT/st.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
s, e = json.loads(lines[0])["started"], json.loads(lines[1])["exited"]
assert s["name"] == e["name"] and s["name"].startswith("run-")
assert s["pid"] > 0 and s["cgroup"].endswith(".scope"), s
assert set(s["namespaces"]) >= {"pid", "mnt", "net", "uts", "ipc", "user"}, s
assert e["status"] == 5 and e["exit_code"] == 5 and e["signal"] is None and e["timed_out"] is False, e
assert e["cpu_usec"] is None or e["cpu_usec"] > 0, e
assert e["wall_usec"] > 0, e
EOF
# The pid namespace it reported is the command's own.
R -t busybox --json-status-fd 3 -- sh -c 'readlink /proc/self/ns/pid' 3>"$T_ROOT/ns.json" >"$T_ROOT/ns.out"
assert_eq "$(cat "$T_ROOT/ns.out")" "pid:[$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["started"]["namespaces"]["pid"])' "$T_ROOT/ns.json")]" \
        "the pid namespace in the started event"

# A throwaway run's overlay upper is volatile (no sync of the host's disk at its end), in both
# modes; a kept one's is not.
assert_match "$(R -t busybox -- grep ' / / ' /proc/self/mountinfo)" 'fsync=volatile|,volatile' "run --rm's upper is volatile"
assert_match "$(R --no-userns -t busybox -- grep ' / / ' /proc/self/mountinfo)" 'fsync=volatile|,volatile' \
        "run --rm --no-userns's upper is volatile"
# --keep NAME leaves a stopped container; --from NAME starts from its tree.
k=$(cname runkeep)
R -t busybox --keep "$k" -- sh -c 'echo kept > /marker'
assert_eq "$(state_of "$k")" stopped "--keep leaves a stopped container"
k2=$(cname runkeep2)
out=$(R -t busybox --keep "$k2" -- grep ' / / ' /proc/self/mountinfo)
assert_match "$out" ' - overlay ' "a kept run's root is an overlay"
assert_no_match "$out" 'volatile' "a kept container's upper is not volatile"
ctr destroy "$k2"
assert_eq "$(R --from "$k" -- cat /marker)" kept "--from sees the kept tree"
R --from "$k" -- sh -c 'echo changed > /marker'
assert_eq "$(R --from "$k" -- cat /marker)" kept "a run --from does not change its source"
assert_eq "$(R --from "$k" --no-userns -- cat /marker)" kept "--from a user-namespaced tree without one"
assert_eq "$(stat -c %u "$T_ROOT/containers/$k/upper/marker")" 0 "the kept tree is stored unshifted"
ctr destroy "$k"

# 50 at once: distinct names, no interference, nothing left behind.
for i in $(seq 50); do (R -t busybox -- sh -c "echo $i" > "$T_ROOT/par.$i" 2>&1; echo $? >> "$T_ROOT/par.status") & done
wait
assert_eq "$(sort -u "$T_ROOT/par.status")" 0 "50 parallel runs all succeed"
for i in $(seq 50); do assert_eq "$(cat "$T_ROOT/par.$i")" "$i" "parallel run $i output"; done
assert_eq "$(ls "$T_ROOT/containers" | grep -c '^run-')" 0 "no run container left"
assert_eq "$(ls -A "$T_ROOT/run" 2>/dev/null | grep -vcx .memo)" 0 "no run state left (memos aside)"

# Bad input: one line, 125, nothing created.
before=$(root_fingerprint)
expect_125 "no command" R -t busybox | grep -q "missing the command" || fail "no command message"
expect_125 "no template" R -- true | grep -q "needs a template" || fail "no template message"
expect_125 "bad timeout" R -t busybox --timeout soon -- true >/dev/null
expect_125 "bad fd" R -t busybox --json-status-fd 99 -- true | grep -q "not an open file descriptor" || fail "bad fd message"
expect_125 "unknown template" R -t no-such-template -- true >/dev/null
expect_125 "relative workdir" R -t busybox -w tmp -- true >/dev/null
assert_eq "$(root_fingerprint)" "$before" "refused runs changed the state root"

# The debian fixture (make debian-fixture), when this machine has it: the same default.
cache=${CTR_CI_CACHE:-}
if [ -n "$cache" ] && ls -d "$cache"/templates/debian-bookworm-*/current > /dev/null 2>&1; then
        ws=$(mktemp -d "$T_ROOT/deb.XXXX")
        chown 4242:4343 "$ws"
        out=$(CTR_CACHE=$cache R -t debian -v "$ws:/src" -w /src -- sh -c 'cat /proc/self/uid_map; id -u; touch made; stat -c %u:%g made')
        assert_match "$(echo $out)" '^0 [1-9][0-9]{6,} 65536 0 0:0$' "debian: a user namespace, root owns the volume"
        assert_eq "$(stat -c %u:%g "$ws/made")" 4242:4343 "debian: what root made is the volume owner's"
        assert_match "$(CTR_CACHE=$cache R -t debian --no-userns -- cat /proc/self/uid_map)" '^ *0 +0 +4294967295$' "debian: --no-userns"
else
        echo "note: no debian fixture; the debian runs were not tried"
fi

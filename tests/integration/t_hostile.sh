# Hostile files where ctr keeps its own: a config.json nested 200,000 arrays deep, a FIFO or a
# symlink in its place, a FIFO for state.json or ctr.conf. One damaged container must not stop
# `list` for the others; the verbs on it fail in one line with 125, promptly; destroy --force
# still removes it.
ok=$(cname hok) deep=$(cname hdeep) fifo=$(cname hfifo) link=$(cname hlink) st=$(cname hstate)
for c in "$ok" "$deep" "$fifo" "$link" "$st"; do mk "$c" --net none; done
cfg() { echo "$T_ROOT/containers/$1/config.json"; }

# 200,000 levels, 400 KB: under the 1 MiB config cap, so the depth limit is what stops it.
python3 -c 'import sys; sys.stdout.write("[" * 200000 + "]" * 200000)' > "$(cfg "$deep")"
rm -f "$(cfg "$fifo")" && mkfifo "$(cfg "$fifo")"
cp "$(cfg "$link")" "$T_ROOT/elsewhere.json"
rm -f "$(cfg "$link")" && ln -s "$T_ROOT/elsewhere.json" "$(cfg "$link")"
mkdir -p "$T_ROOT/run/$st" && mkfifo "$T_ROOT/run/$st/state.json"

out=$(timeout 10 "$CTR" --root "$T_ROOT" list --format json) || fail "list: exit $? with damaged containers"
for c in "$deep" "$fifo" "$link"; do
        assert_eq "$(printf '%s' "$out" | python3 -c 'import json,sys
print([c["state"] for c in json.load(sys.stdin) if c["name"] == sys.argv[1]])' "$c")" "['broken']" "$c listed as broken"
done
assert_eq "$(state_of "$ok")" stopped "the sound container is listed"
assert_eq "$(state_of "$st")" stopped "a FIFO state.json is a stale state, not a hang"
timeout 10 "$CTR" --root "$T_ROOT" list >/dev/null || fail "table list: exit $?"

check() { # check NAME REASON-REGEX
        local e verb
        for verb in info start; do
                e=$(expect_125 "$verb $1" timeout 10 "$CTR" --root "$T_ROOT" "$verb" "$1")
                assert_match "$e" "^ctr: $verb $1: .*config\.json.*$2" "$verb $1 names the file and reason"
        done
}
check "$deep" "nested deeper than 64 levels"
check "$fifo" "a FIFO, refused"
check "$link" "a symlink, refused"
e=$(expect_125 "config get on a FIFO" timeout 10 "$CTR" --root "$T_ROOT" config "$fifo" get hostname)
assert_match "$e" "a FIFO, refused" "config get names the FIFO"

for c in "$deep" "$fifo" "$link"; do
        timeout 10 "$CTR" --root "$T_ROOT" destroy --force "$c" || fail "destroy --force $c: exit $?"
        assert_eq "$(state_of "$c")" absent "destroy --force removes $c"
done
[ -f "$T_ROOT/elsewhere.json" ] || fail "destroy --force followed the symlink and removed its target"
rm -f "$T_ROOT/elsewhere.json"

# ctr.conf as a FIFO: list still answers; create says what is wrong with it in one line.
mkfifo "$T_ROOT/ctr.conf"
timeout 10 "$CTR" --root "$T_ROOT" list >/dev/null || fail "list with a FIFO ctr.conf: exit $?"
e=$(expect_125 "create with a FIFO ctr.conf" timeout 10 "$CTR" --root "$T_ROOT" create "$(cname hnet)" -t busybox --net bridge)
assert_match "$e" "ctr.conf: a FIFO, refused" "create names ctr.conf"
rm -f "$T_ROOT/ctr.conf"

rm -f "$T_ROOT/run/$st/state.json" && rmdir "$T_ROOT/run/$st"
ctr destroy "$st"
ctr destroy "$ok"

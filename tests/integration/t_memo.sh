# Work done once: ctr run with a warm memo directory (compiled seccomp filters, the idmap probe's
# answer) and with every memo file damaged (still confined, rebuilt whole); the list's summaries
# (damaged: ignored; a config change: not believed); and the host's range record shared by two
# state roots: containers running at once under two --root's get disjoint host uids.
R() { "$CTR" --root "$T_ROOT" run --rm -t busybox --net none "$@"; }
memo="$T_ROOT/run/.memo"

assert_eq "$(R -- sh -c 'grep ^Seccomp: /proc/self/status')" "$(printf 'Seccomp:\t2')" "filtered, cold"
ls "$memo"/seccomp-* >/dev/null 2>&1 || fail "no seccomp memo after a run"
ls "$memo"/idmap-* >/dev/null 2>&1 || fail "no idmap memo after a run"
before=$(ls "$memo" | sort)
assert_eq "$(R -- sh -c 'grep ^Seccomp: /proc/self/status')" "$(printf 'Seccomp:\t2')" "filtered, warm"
assert_eq "$(ls "$memo" | sort)" "$before" "a warm run adds no memo"
assert_match "$(R -- sh -c 'swapon /dev/null 2>&1; echo rc=$?')" "Operation not permitted" "the filter from the memo denies swapon"

# Damaged every way a file can be: truncated, garbage, emptied. Runs still work, still confined.
for f in "$memo"/*; do
        case "$f" in
        *seccomp-*) head -c 40 "$f" > "$f.x" && mv "$f.x" "$f" ;;
        *) printf 'garbage' > "$f" ;;
        esac
done
assert_eq "$(R -- sh -c 'grep ^Seccomp: /proc/self/status')" "$(printf 'Seccomp:\t2')" "filtered with damaged memos"
assert_match "$(R -- sh -c 'swapon /dev/null 2>&1; echo rc=$?')" "Operation not permitted" "the rebuilt filter denies swapon"
for f in "$memo"/*; do
        assert_eq "$(head -1 "$f")" "ctr-memo 1" "$(basename "$f") rewritten whole"
done
: > "$(ls "$memo"/seccomp-* | head -1)"
assert_eq "$(R -- echo ok)" ok "an empty memo file is a miss"

# A changed policy is another key: --seccomp-allow @swap compiles (and keeps) a filter of its own.
n=$(ls "$memo"/seccomp-* | wc -l)
assert_eq "$(R --seccomp-allow @swap -- echo ok)" ok "run with another policy"
assert_eq "$(ls "$memo"/seccomp-* | wc -l)" $((n + 1)) "another policy, another memo"

# The list's summaries: written by a list, ignored when damaged, not believed after a change.
a=$(cname a)
ctr create "$a" -t busybox -q --net none || fail "create $a"
ctr list >/dev/null
[ -f "$T_ROOT/containers/$a/.summary" ] || fail "no summary after a list"
printf 'ctr-summary 1\nbroken\n' > "$T_ROOT/containers/$a/.summary"
assert_match "$(ctr list | grep "^$a ")" "stopped +- +- +busybox +container" "a damaged summary is ignored"
ctr config "$a" set vm.vcpus 2 || fail "config set"
assert_eq "$(ctr list --format json | json_field "[c for c in d if c['name']=='$a'][0]['template']")" busybox "listed after a change"
ctr destroy "$a" || fail "destroy $a"

# Two state roots, containers running at once in both: disjoint host ranges from the one record.
b=$(cname b)
for r in one two; do
        "$CTR" --root "$T_ROOT/$r" create "$b" -t busybox -q --net none --userns ||
                fail "create in root $r"
        "$CTR" --root "$T_ROOT/$r" start "$b" || fail "start in root $r"
done
u1=$("$CTR" --root "$T_ROOT/one" info "$b" --format json | json_field 'd["idmap"]["uid"]')
u2=$("$CTR" --root "$T_ROOT/two" info "$b" --format json | json_field 'd["idmap"]["uid"]')
p1=$("$CTR" --root "$T_ROOT/one" info "$b" --format json | json_field 'd["pid"]')
p2=$("$CTR" --root "$T_ROOT/two" info "$b" --format json | json_field 'd["pid"]')
[ "$u1" != "$u2" ] || fail "both roots got host uid $u1"
m1=$(awk '{print $2}' "/proc/$p1/uid_map")
m2=$(awk '{print $2}' "/proc/$p2/uid_map")
assert_eq "$m1" "$u1" "root one's init runs in its range"
assert_eq "$m2" "$u2" "root two's init runs in its range"
[ $((u1 >= u2 + 65536 || u2 >= u1 + 65536)) = 1 ] || fail "ranges $u1 and $u2 overlap"
grep -q "^range $u1 .*$T_ROOT/one/containers/$b\$" "$CTR_IDMAP_RECORD" || fail "root one's range is not in the record"
for r in one two; do
        "$CTR" --root "$T_ROOT/$r" destroy --force "$b" || fail "destroy in root $r"
done
grep -q "^range" "$CTR_IDMAP_RECORD" && fail "destroy left ranges in the record: $(cat "$CTR_IDMAP_RECORD")"

# A damaged record is rebuilt from the root's configs: the range of a container that exists is kept.
c=$(cname c)
ctr create "$c" -t busybox -q --net none --userns || fail "create $c"
uc=$(ctr info "$c" --format json | json_field 'd["idmap"]["uid"]')
printf 'not a record\n' > "$CTR_IDMAP_RECORD"
ctr create "$b" -t busybox -q --net none --userns || fail "create after damage"
ub=$(ctr info "$b" --format json | json_field 'd["idmap"]["uid"]')
[ "$ub" != "$uc" ] || fail "a damaged record handed out $uc twice"
grep -q "^range $uc " "$CTR_IDMAP_RECORD" || fail "the rebuilt record lacks $c's range"
ctr destroy "$b" || fail "destroy $b"
ctr destroy "$c" || fail "destroy $c"
true

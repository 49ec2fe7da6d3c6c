# Eight concurrent creates of one name: exactly one wins, the others fail cleanly.
n=$(cname race)
pids=()
for i in $(seq 8); do
        ( rc=0; "$CTR" --root "$T_ROOT" create "$n" -t busybox -q 2>"$T_ROOT/err.$i" || rc=$?; echo $rc > "$T_ROOT/rc.$i" ) &
        pids+=($!)
done
wait "${pids[@]}"
ok=0
for i in $(seq 8); do
        rc=$(cat "$T_ROOT/rc.$i")
        if [ "$rc" = 0 ]; then ok=$((ok + 1)); else
                assert_eq "$rc" 125 "loser exit status"
                assert_match "$(cat "$T_ROOT/err.$i")" "already exists" "loser message"
        fi
        rm -f "$T_ROOT/rc.$i" "$T_ROOT/err.$i"
done
assert_eq "$ok" 1 "winners"
assert_eq "$(ls -A "$T_ROOT/containers" | grep -c .)" 1 "no temp dirs left"
install -m 0755 "$PROBE" "$T_ROOT/containers/$n/rootfs/bin/ctr-probe"

# Concurrent starts of one container: one starts it, the others are refused.
for i in $(seq 4); do
        ( rc=0; "$CTR" --root "$T_ROOT" start "$n" 2>/dev/null || rc=$?; echo $rc > "$T_ROOT/rc.$i" ) &
        pids[$i]=$!
done
wait
ok=0
for i in $(seq 4); do [ "$(cat "$T_ROOT/rc.$i")" = 0 ] && ok=$((ok + 1)); rm -f "$T_ROOT/rc.$i"; done
assert_eq "$ok" 1 "concurrent starts that succeeded"
ctr destroy --force "$n"

# attach: the console is init's pty; input reaches the console shell, output comes back, and
# everything written there lands in the bounded console log.
n=$(cname att)
mk "$n"
ctr start "$n"
out=$( (sleep 0.3; echo 'echo marker-$((6*7))'; sleep 0.5) | ctr attach "$n")
assert_match "$out" "marker-42" "command typed on the console ran"
grep -q "marker-42" "$T_ROOT/log/$n.log" || fail "console log lacks the output"
assert_match "$(head -c 200 "$T_ROOT/log/$n.log")" "$n: busybox init up" "init's boot output logged"

# Two clients at once both see the output.
( (sleep 0.3; echo 'echo two-clients') | ctr attach "$n" > "$T_ROOT/a1" ) &
a1=$!
( sleep 1.2 | ctr attach "$n" > "$T_ROOT/a2" ) &
a2=$!
wait $a1 $a2
grep -q two-clients "$T_ROOT/a1" || fail "first client lacks output"
grep -q two-clients "$T_ROOT/a2" || fail "second client lacks output"
rm -f "$T_ROOT/a1" "$T_ROOT/a2"

# A terminal detaches with Ctrl-] and leaves the container running.
# Keys typed before Ctrl-] in the same burst still reach the console.
rc=0
out=$(PTY_AFTER="detach with Ctrl-]" PTY_KEYS='echo tty-$((3*5))\r\x1d' in_pty "$CTR" --root "$T_ROOT" attach "$n") || rc=$?
assert_eq "$rc" 0 "attach exit status after Ctrl-]"
assert_match "$out" "Detached from $n" "detach message"
assert_eq "$(state_of "$n")" running "running after detach"
sleep 0.3
grep -q "tty-15" "$T_ROOT/log/$n.log" || fail "keys typed on the terminal did not reach the console"

# The console log stays bounded (1 MiB + one rotated file).
ctr exec "$n" -- sh -c 'i=0; while [ $i -lt 3000 ]; do echo "................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................." > /dev/console; i=$((i+1)); done'
sleep 0.5
size=$(stat -c %s "$T_ROOT/log/$n.log")
[ "$size" -le 1048576 ] || fail "console log is $size bytes"
[ -e "$T_ROOT/log/$n.log.1" ] || fail "console log was not rotated"

expect_125 "attach to a stopped container" sh -c "'$CTR' --root '$T_ROOT' stop '$n' --kill && '$CTR' --root '$T_ROOT' attach '$n'" >/dev/null
ctr destroy "$n"

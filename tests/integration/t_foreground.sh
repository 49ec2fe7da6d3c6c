# start --foreground: the monitor is this process (for service managers); READY=1 is sent on
# $NOTIFY_SOCKET once running, and a stop from elsewhere ends it with status 0.
n=$(cname fg)
mk "$n"
sock="$T_ROOT/notify.sock"
python3 - "$sock" > "$T_ROOT/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(100).decode().strip(), flush=True)
PY
py=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$sock "$CTR" --root "$T_ROOT" start --foreground "$n" > "$T_ROOT/fg.out" &
fg=$!
wait $py
assert_match "$(cat "$T_ROOT/notify.out")" "^READY=1$" "sd_notify"
assert_eq "$(state_of "$n")" running "running in the foreground"
assert_eq "$(monitor_pid "$n")" "$fg" "the foreground process is the monitor"
ctr stop "$n" -t 20
rc=0
wait $fg || rc=$?
assert_eq "$rc" 0 "foreground exit status after stop"
grep -q "busybox init up" "$T_ROOT/fg.out" || fail "console not mirrored to stdout"

# SIGTERM to the foreground monitor (a service manager's stop) stops the container gracefully.
"$CTR" --root "$T_ROOT" start --foreground "$n" > /dev/null &
fg=$!
wait_state "$n" running
kill -TERM $fg
rc=0
wait $fg || rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
assert_eq "$(state_of "$n")" stopped "stopped after SIGTERM"

# A foreground start and a detached start at the same moment: exactly one container runs.
for round in 1 2 3; do
        "$CTR" --root "$T_ROOT" start --foreground "$n" > /dev/null 2>"$T_ROOT/fg.err" &
        fg=$!
        rc=0
        "$CTR" --root "$T_ROOT" start "$n" 2>"$T_ROOT/bg.err" || rc=$?
        if [ "$rc" = 0 ]; then
                # The detached start won: the foreground one must fail at once.
                fgrc=0
                wait $fg || fgrc=$?
                assert_eq "$fgrc" 125 "round $round: losing foreground start"
                assert_match "$(cat "$T_ROOT/fg.err")" "already (running|starting)" "round $round: loser message"
        else
                assert_eq "$rc" 125 "round $round: losing detached start"
                assert_match "$(cat "$T_ROOT/bg.err")" "already (running|starting)" "round $round: loser message"
                assert_eq "$(monitor_pid "$n")" "$fg" "round $round: the foreground start runs it"
        fi
        assert_eq "$(pgrep -fc -- "--root $T_ROOT start")" 1 "round $round: one monitor"
        ctr stop "$n" --kill
        wait $fg 2>/dev/null || true
done
rm -f "$sock" "$T_ROOT/notify.out" "$T_ROOT/fg.out" "$T_ROOT/fg.err" "$T_ROOT/bg.err"
ctr destroy "$n"

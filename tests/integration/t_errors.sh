# Bad input: exit 125, one clear line naming the object and the reason, and nothing changed.
n=$(cname err)
mk "$n"
fp=$(root_fingerprint)

e=$(expect_125 "unknown container" ctr start "${T_PREFIX}-nosuch")
assert_match "$e" "^ctr: start ${T_PREFIX}-nosuch: .*no such container" "unknown container message"
e=$(expect_125 "duplicate name" ctr create "$n" -t busybox -q)
assert_match "$e" "^ctr: create $n: .*already exists" "duplicate message"
e=$(expect_125 "name with ../" ctr create ../x -t busybox)
assert_match "$e" "not a valid container name" "../x"
e=$(expect_125 "name with space" ctr create "a b" -t busybox)
assert_match "$e" "not a valid container name" "space"
long=$(printf 'a%.0s' $(seq 65))
e=$(expect_125 "65-char name" ctr create "$long" -t busybox)
assert_match "$e" "not a valid container name" "long name"
e=$(expect_125 "missing template" ctr create "${T_PREFIX}-x" -t nosuchtemplate)
assert_match "$e" "no template named 'nosuchtemplate'" "missing template"
e=$(expect_125 "default template missing" ctr create "${T_PREFIX}-y")
assert_match "$e" "no template named '${T_PREFIX}-y'" "default template = name"
e=$(expect_125 "bad size" ctr create "${T_PREFIX}-z" -t busybox --memory lots)
assert_match "$e" "memory.*lots" "bad size"
e=$(expect_125 "memory 12Q" ctr create "${T_PREFIX}-z" -t busybox --memory 12Q)
assert_match "$e" "memory.*12Q" "12Q"
e=$(expect_125 "cpus -1" ctr create "${T_PREFIX}-z" -t busybox --cpus -1)
assert_match "$e" "cpus.*-1" "cpus -1"
e=$(expect_125 "cpus 0" ctr create "${T_PREFIX}-z" -t busybox --cpus 0)
assert_match "$e" "cpus: 0 is out of range" "cpus 0"
e=$(expect_125 "pids 0" ctr create "${T_PREFIX}-z" -t busybox --pids 0)
assert_match "$e" "pids" "pids 0"
e=$(expect_125 "bad net" ctr create "${T_PREFIX}-z" -t busybox --net bridgey)
assert_match "$e" "bridgey" "bad net mode"
e=$(expect_125 "bad volume" ctr create "${T_PREFIX}-z" -t busybox -v relative:/x)
assert_match "$e" "absolute" "bad volume"
e=$(expect_125 "unknown option" ctr list --bogus)
assert_match "$e" "unknown option" "unknown option"
e=$(expect_125 "unknown verb" ctr frobnicate)
assert_match "$e" "unknown verb" "unknown verb"
e=$(expect_125 "exec without command" ctr exec "$n")
assert_match "$e" "missing the command" "exec without command"
assert_eq "$(root_fingerprint)" "$fp" "state root unchanged by bad input"

# JSON errors carry errno, op and message.
e=$(ctr --format json start "${T_PREFIX}-nosuch" 2>&1 >/dev/null || true)
assert_eq "$(printf '%s' "$e" | json_field 'd["error"]["op"]')" lookup "json error op"
assert_eq "$(printf '%s' "$e" | json_field 'd["error"]["errno"]')" 2 "json error errno"

# Starting a running container, destroying a running one without --force.
ctr start "$n"
fp=$(root_fingerprint)
e=$(expect_125 "start running" ctr start "$n")
assert_match "$e" "already running" "start running"
e=$(expect_125 "destroy running" ctr destroy "$n")
assert_match "$e" "is running.*--force" "destroy running"
assert_eq "$(state_of "$n")" running "still running"
assert_eq "$(root_fingerprint)" "$fp" "unchanged after refused start/destroy"
ctr destroy --force "$n"
assert_eq "$(state_of "$n")" absent "destroy --force"

# A corrupted config.json is reported with its path and the reason; nothing is touched.
n2=$(cname corrupt)
mk "$n2"
echo '{"version": 1, "name": "'"$n2"'", "bogus": 1}' > "$T_ROOT/containers/$n2/config.json"
fp=$(root_fingerprint)
e=$(expect_125 "unknown key" ctr start "$n2")
assert_match "$e" "unknown key 'bogus'" "unknown key named"
printf '{"version": 1, "na' > "$T_ROOT/containers/$n2/config.json"
e=$(expect_125 "truncated config" ctr start "$n2")
assert_match "$e" "config.json" "truncated config names the file"
e=$(expect_125 "destroy corrupted without force" ctr destroy "$n2")
ctr list >/dev/null || fail "list must survive a corrupted container"
assert_eq "$(state_of "$n2")" broken "corrupted container listed as broken"
ctr destroy --force "$n2"
assert_eq "$(state_of "$n2")" absent "destroy --force removes a corrupted container"

# A failure inside the child before exec comes back with its own errno and message.
n3=$(cname badinit)
mk "$n3" --init /no/such/init
e=$(expect_125 "missing init" ctr start "$n3")
assert_match "$e" "^ctr: start $n3: exec: init /no/such/init: No such file or directory" "child error message"
assert_eq "$(state_of "$n3")" stopped "stopped after failed start"
ctr destroy "$n3"

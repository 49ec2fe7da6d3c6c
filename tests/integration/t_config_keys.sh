# Every config key a CLI flag or `ctr config set` reaches: an accepted value is read back by
# `ctr config get` and the container still starts and is destroyed; a refused value is one
# stderr line, exit 125, and nothing changed (no container, or config.json byte-identical).
# Then destroy --force on config.json files damaged by hand, and ctr run's hostname.

# Start and stop, or on a host without the limit's cgroup controller a start refused naming it.
start_stop() { # start_stop NAME
        local out
        if ! out=$(ctr start "$1" 2>&1); then
                assert_match "$out" "controller not available" "start $1 after an accepted value"
                assert_eq "$(state_of "$1")" stopped "$1 after a start refused for its controller"
                return 0
        fi
        ctr stop "$1" --kill
}

i=0
# flag_ok KEY WANT FLAGS...: create with FLAGS, get KEY is WANT, start, destroy.
flag_ok() {
        local key=$1 want=$2 n
        shift 2
        i=$((i + 1))
        n=$(cname "f$i")
        ctr create "$n" -t busybox -q --net none "$@" || fail "create with $*"
        assert_eq "$(ctr config "$n" get "$key")" "$want" "$key after $*"
        start_stop "$n"
        ctr destroy "$n"
        assert_eq "$(state_of "$n")" absent "destroyed after $*"
}

# flag_bad FLAGS...: refused, no container made.
flag_bad() {
        local n fp e
        i=$((i + 1))
        n=$(cname "f$i")
        fp=$(root_fingerprint)
        e=$(expect_125 "create $*" ctr create "$n" -t busybox -q --net none "$@")
        assert_match "$e" "^ctr: create $n: " "message of $*"
        assert_eq "$(state_of "$n")" absent "no container after $*"
        [ ! -e "$T_ROOT/containers/$n" ] || fail "container directory left after $*"
        assert_eq "$(root_fingerprint)" "$fp" "state root unchanged by $*"
}

# The reported cases first: both were accepted by create and then refused by every later verb.
flag_bad --pids 3000000000
flag_bad --memory 0
flag_bad --pids 0
flag_bad --pids 12x

kernel=$T_ROOT/vmlinuz initrd=$T_ROOT/initrd.img
: >"$kernel"
: >"$initrd"

flag_ok template.name busybox
flag_bad -t "${T_PREFIX}-nosuch-template"
flag_ok limits.memory 64M --memory 64M
flag_bad --memory 12Q
flag_ok limits.cpus 1.5 --cpus 1.5
flag_bad --cpus 0
flag_bad --cpus 5000
flag_ok limits.pids 4194304 --pids 4194304
flag_ok limits.cpuset 0 --cpuset 0
flag_bad --cpuset 1-
flag_ok limits.cpuset_mems 0 --cpuset-mems 0
flag_bad --cpuset-mems 0,,1
flag_ok limits.io 8:0:rbps=1M --io 8:0:rbps=1M
flag_bad --io 8:0:rbps=fast
flag_ok network.mode none --net none
flag_bad --net bridged
flag_ok network.ports '[{"host_ip":"127.0.0.1","host":18080,"container":80,"proto":"tcp"}]' --net bridge -p 127.0.0.1:18080:80
flag_bad --net bridge -p 80
flag_bad -p 8080:80 # port forwards need bridge
flag_ok network.ipv4 10.57.0.77 --ip 10.57.0.77
flag_bad --ip 10.1
flag_ok network.ipv6 none --ip6 none
flag_bad --ip6 fd57::x
flag_ok hostname www.example --hostname www.example
flag_bad --hostname "no spaces"
flag_ok environment '{"LANG":"C.UTF-8"}' -e LANG=C.UTF-8
flag_bad -e 1A=x
flag_ok mounts '[{"source":"/tmp","target":"/mnt","readonly":true}]' -v /tmp:/mnt:ro
flag_bad -v /tmp:mnt
flag_ok init /sbin/init --init /sbin/init
flag_bad --init sbin/init
flag_ok devices '["c 10:200 rwm"]' --device "c 10:200 rwm"
flag_bad --device "c 10:200 x"
flag_ok security.capabilities.add '["CAP_SYS_TIME"]' --cap-add CAP_SYS_TIME
flag_bad --cap-add CAP_BOGUS
flag_ok security.capabilities.drop '["CAP_NET_RAW"]' --cap-drop CAP_NET_RAW
flag_bad --cap-drop CAP_BOGUS
flag_ok security.no_new_privs true --no-new-privs
flag_ok security.seccomp.profile unconfined --seccomp unconfined
flag_bad --seccomp "$T_ROOT/no-such-profile.json"
flag_ok security.seccomp.allow '["ptrace"]' --seccomp-allow ptrace
flag_bad --seccomp-allow nosuchcall
flag_ok security.seccomp.deny '["@swap"]' --seccomp-deny @swap
flag_bad --seccomp-deny @nosuchgroup
# vm.* keys are kept by a container too (used once it is turned into a VM); --vm itself is t_vm_host's.
flag_ok vm.vcpus 2 --vcpus 2
flag_bad --vcpus 33
flag_ok vm.memory 1G --vm-memory 1G
flag_bad --vm-memory 4G
flag_ok vm.disk 64M --vm-disk 64M
flag_bad --vm-disk 1M
flag_ok vm.kernel "$kernel" --kernel "$kernel"
flag_bad --kernel "$T_ROOT/no-such-kernel"
flag_ok vm.initrd "$initrd" --initrd "$initrd"
flag_bad --initrd "$T_ROOT/no-such-initrd"

# `ctr config set`, on one container.
n=$(cname set)
mk "$n" --net none --no-userns
cfg=$T_ROOT/containers/$n/config.json
# set_ok KEY VALUE [WANT]: saved, read back, and the container starts with it.
set_ok() {
        ctr config "$n" set "$1" "$2" >/dev/null || fail "set $1 $2"
        assert_eq "$(ctr config "$n" get "$1")" "${3:-$2}" "get $1 after set $2"
        start_stop "$n"
}
# set_bad KEY VALUE: refused, config.json byte-identical.
set_bad() {
        cp "$cfg" "$T_ROOT/before.json"
        local e
        e=$(expect_125 "set $1 $2" ctr config "$n" set "$1" "$2")
        assert_match "$e" "^ctr: config $n: " "message of set $1 $2"
        cmp -s "$cfg" "$T_ROOT/before.json" || fail "config.json changed by a refused set $1 $2"
}

set_bad limits.pids 3000000000
set_bad limits.memory 0
set_ok limits.pids 100
set_bad limits.pids 0
set_ok limits.pids null
set_ok limits.memory 64M
set_bad limits.memory 12Q
set_ok limits.memory null
set_ok limits.memory_high 32M
set_bad limits.memory_high 0
set_ok limits.memory_high null
set_ok limits.memory_swap 16M
set_bad limits.memory_swap 1K
set_ok limits.memory_swap null
set_ok limits.cpus 0.5
set_bad limits.cpus 0
set_ok limits.cpus null
set_ok limits.cpu_weight 200
set_bad limits.cpu_weight 10001
set_ok limits.cpu_weight null
set_ok limits.cpuset 0
set_bad limits.cpuset 1-
set_ok limits.cpuset null
set_ok limits.cpuset_mems 0
set_bad limits.cpuset_mems x
set_ok limits.cpuset_mems null
set_ok limits.io "8:0:wbps=1M"
set_bad limits.io "8:0:wbps=fast"
set_ok limits.io null
set_ok hostname renamed
assert_eq "$(ctr config "$n" get hostname)" renamed "hostname kept"
set_bad hostname "no spaces"
set_ok init /sbin/init
set_bad init sbin/init
set_ok stop.signal SIGTERM
set_bad stop.signal SIGNOPE
set_ok stop.signal null
set_ok stop.timeout 0
set_ok stop.timeout 86400
set_bad stop.timeout 86401
set_bad stop.timeout 1.5
set_ok stop.timeout 30
set_ok network.bridge null
set_bad network.bridge a/b
set_ok network.ipv4 10.57.0.78
set_bad network.ipv4 10.1
set_ok network.ipv4 auto
set_ok network.ipv6 none
set_bad network.ipv6 fd57::x
set_ok network.ipv6 auto
set_ok network.mode none
set_bad network.mode bridged
set_ok security.no_new_privs true
set_bad security.no_new_privs yes
set_ok security.no_new_privs false
set_ok security.seccomp.profile unconfined
set_ok security.seccomp.profile default
set_ok security.userns false
set_bad security.userns true
set_bad security.userns maybe
set_ok vm.vcpus 32
set_bad vm.vcpus 0
set_ok vm.memory 64M
set_bad vm.memory 63M
set_ok vm.kernel null
set_bad vm.kernel vmlinuz
set_ok vm.initrd null
set_bad vm.initrd initrd.img
set_bad autostart yes
# Keys fixed at create are read, not set.
set_bad uuid 5e73e54e-dca9-4adc-b147-1a007c2aa2b7
set_bad vm.disk 64M
set_bad name other
set_bad bogus 1
ctr destroy "$n"

# destroy --force removes a container whatever its config.json says; without --force the
# damage is reported and nothing is removed.
damage() { # damage NAME KIND
        local f=$T_ROOT/containers/$1/config.json
        case $2 in
        range) sed -i 's/"pids": null/"pids": 3000000000/' "$f"; grep -q 3000000000 "$f" || fail "damage $1" ;;
        truncated) head -c 40 "$f" >"$f.t" && mv "$f.t" "$f" ;;
        garbage) printf '\0\1\2 not json' >"$f" ;;
        unknown) sed -i 's/"autostart"/"bogus": 1, "autostart"/' "$f" ;;
        other) sed -i "s/\"name\": \"$1\"/\"name\": \"someone-else\"/" "$f" ;;
        directory) rm "$f" && mkdir "$f" ;;
        missing) rm "$f" ;;
        esac
}
for kind in range truncated garbage unknown other directory missing; do
        d=$(cname "dmg-$kind")
        mk "$d" --net none
        damage "$d" "$kind"
        fp=$(root_fingerprint)
        expect_125 "destroy $kind config without --force" ctr destroy "$d" >/dev/null
        expect_125 "start with a $kind config" ctr start "$d" >/dev/null
        assert_eq "$(root_fingerprint)" "$fp" "nothing removed without --force ($kind)"
        ctr destroy --force "$d" || fail "destroy --force of a container with a $kind config.json"
        [ ! -e "$T_ROOT/containers/$d" ] || fail "container with a $kind config.json left after destroy --force"
done

# ... but not a running one: that is judged by its state and cgroup, not its config.
d=$(cname dmg-running)
mk "$d" --net none
ctr start "$d"
damage "$d" truncated
e=$(expect_125 "destroy --force of a running container with a damaged config" ctr destroy --force "$d")
assert_match "$e" "is running" "refusal names the state"
assert_eq "$(state_of "$d")" broken "still there"
ctr stop --kill "$d" || fail "stop --kill of a running container with a damaged config"
ctr destroy --force "$d"
[ ! -e "$T_ROOT/containers/$d" ] || fail "left after stop --kill and destroy --force"

# ctr run: the container's hostname is its generated name (or --keep's, or --hostname).
out=$(ctr run -t busybox -- hostname)
assert_match "$out" "^run-[0-9a-f]{12}$" "run's hostname is its generated name"
k=$(cname keep)
assert_eq "$(ctr run --keep "$k" -t busybox -- hostname)" "$k" "run --keep's hostname"
assert_eq "$(ctr config "$k" get hostname)" "$k" "run --keep's saved hostname"
ctr destroy "$k"
assert_eq "$(ctr run -t busybox --hostname given -- hostname)" given "run --hostname"

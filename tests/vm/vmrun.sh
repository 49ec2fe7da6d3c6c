#!/bin/bash
# vmrun.sh - run one command as root inside a throwaway QEMU VM whose kernel has a pure
# cgroup v2 hierarchy (cgroup_no_v1=all, every controller enabled at the root).
#
#   tests/vm/vmrun.sh [-t SECS] [-m MB] [-c CPUS] [-k MOD,MOD] [-d MB] [-S] [-r] [-e VAR[=VAL]]... -- CMD ARGS...
#
#   -t SECS    kill the VM after SECS seconds (default 1800); exit status 124
#   -m MB      guest memory (default 2048)
#   -c CPUS    guest vCPUs (default: the host's)
#   -k MODS    extra kernel modules to load in the guest, comma separated (deps resolved)
#   -d MB      a blank scratch disk of MB megabytes as virtio-blk /dev/vda (for I/O limit tests)
#   -S         boot the host's systemd as PID 1 and run CMD as a unit (ctr-lane.service)
#   -r         boot again (up to 3 boots) if the VM stops without CMD's status (timeout, or no guest
#              heartbeat for 240 s: CTR_VM_STALL)
#   -e VAR     pass VAR from our environment (or VAR=VAL) to CMD; otherwise CMD gets only
#              PATH, HOME, USER, LOGNAME, LANG, TERM=dumb and CTR_VM=1
#
# The guest's root is the host's / (read-only virtio-9p) under a tmpfs overlay, so the host's
# binaries and libraries run as they are; the current directory is shared read-write at the
# same path and CMD starts there. CMD's stdout+stderr (merged) stream live to our stdout;
# kernel messages go to a console log, not into that stream. Exit status: CMD's; 124 on
# timeout; 125 if the VM ended without reporting one (console tail on stderr).
# CTR_VM_CACHE (default /var/cache/ctr-vmlane) holds the kernel and initramfs;
# CTR_VM_VERBOSE=1 prints timings and the kernel console to stderr. See tests/vm/README.md.
set -euo pipefail

TIMEOUT=1800 MEM=2048 CPUS=$(nproc) EXTRA_MODS= DISK_MB= SYSTEMD=0 RETRY=0
STALL=${CTR_VM_STALL:-240} # -r: seconds without a guest heartbeat that count as a stall
ENVS=()
CACHE=${CTR_VM_CACHE:-/var/cache/ctr-vmlane}
VERBOSE=${CTR_VM_VERBOSE:-0}

die() { echo "vmrun: $*" >&2; exit 125; }
usage() { sed -n '5,16s/^# \{0,1\}//p' "$0" >&2; exit 125; } # exit 125: vmrun's own failure
while getopts t:m:c:k:d:e:Srh opt; do
	case $opt in
	t) TIMEOUT=$OPTARG ;;
	m) MEM=$OPTARG ;;
	c) CPUS=$OPTARG ;;
	k) EXTRA_MODS+=" ${OPTARG//,/ }" ;;
	d) DISK_MB=$OPTARG EXTRA_MODS+=" virtio_blk" ;;
	S) SYSTEMD=1 ;;
	r) RETRY=1 ;;
	e) ENVS+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for n in "$TIMEOUT" "$STALL" "$MEM" "$CPUS" ${DISK_MB:+"$DISK_MB"}; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"; done
[ "$(id -u)" = 0 ] || die "needs root (9p passthrough, apt-get, $CACHE)"

# ---- host packages, installed only when missing
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
missing=()
for p in qemu-system-x86 busybox-static cpio xz-utils kmod; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "vmrun: installing ${missing[*]}" >&2
	log=$({ apt_get install -y --no-install-recommends "${missing[@]}" ||
		{ apt_get update && apt_get install -y --no-install-recommends "${missing[@]}"; }; } 2>&1) ||
		die "apt-get install ${missing[*]} failed: $(tail -n 5 <<<"$log")"
fi

# ---- the cache: one fetch or build at a time (the others wait for it instead of repeating
# it); every entry is built in a temporary directory and renamed into place, so a run killed
# half-way leaves no half-built entry, only a .tmp.* that the next run removes.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
rm -rf "$CACHE"/.tmp.*

# ---- kernel: the Debian package linux-image-amd64 depends on, unpacked once into the cache.
# Resolving it costs apt-cache ~1 s, so the answer is kept until the apt lists change.
resolve_kernel() {
	PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$PKG" ] || return 1
	VER=$(apt-cache show --no-all-versions "$PKG" | awk '/^Version:/ { print $2; exit }')
	echo "$PKG $VER" >"$CACHE/kernel.$$" && mv "$CACHE/kernel.$$" "$CACHE/kernel"
}
PKG='' VER=''
if [ -s "$CACHE/kernel" ] && [ -z "$(find /var/lib/apt/lists -newer "$CACHE/kernel" -print -quit 2>/dev/null)" ]; then
	read -r PKG VER <"$CACHE/kernel"
elif ! resolve_kernel && [ -z "$(ls -d "$CACHE"/linux-image-* 2>/dev/null)" ]; then
	apt_get update >/dev/null 2>&1 || true
	resolve_kernel || true
fi
if [ -n "$PKG" ]; then
	KDIR=$CACHE/${PKG}_${VER//:/%}
else # no apt lists and no network: use what an earlier run fetched
	KDIR=$(ls -d "$CACHE"/linux-image-* 2>/dev/null | sort -V | tail -1)
	[ -n "$KDIR" ] || die "cannot resolve linux-image-amd64 (apt-get update?)"
fi
if [ ! -d "$KDIR" ]; then
	echo "vmrun: fetching $PKG $VER into $CACHE" >&2
	tmp=$(mktemp -d "$CACHE/.tmp.XXXXXX")
	(cd "$tmp" && apt_get -o APT::Sandbox::User=root download "$PKG=$VER" >/dev/null) || { rm -rf "$tmp"; die "apt-get download $PKG failed"; }
	dpkg-deb -x "$tmp"/*.deb "$tmp" && rm -f "$tmp"/*.deb
	kv=$(ls "$tmp/lib/modules")
	depmod -b "$tmp" "$kv" # the package ships no modules.dep: its postinst makes it
	# Unpack the xz-compressed kernel inside the bzImage once: QEMU boots the ELF vmlinux
	# directly (PVH entry), which saves the ~3.5 s the decompressor takes under TCG.
	off=$(LC_ALL=C grep -obUaP -m1 '\xfd7zXZ\x00' "$tmp/boot/vmlinuz-$kv" | head -1 | cut -d: -f1)
	if [ -n "$off" ]; then
		tail -c +$((off + 1)) "$tmp/boot/vmlinuz-$kv" | xz -dcq --single-stream >"$tmp/boot/vmlinux-$kv" 2>/dev/null || true
	fi
	rm -rf "$CACHE"/linux-image-* "$CACHE"/initrd-* # a new kernel replaces the old one (~400 MB)
	mv -T "$tmp" "$KDIR"
fi
KVER=$(ls "$KDIR/lib/modules")
KERNEL=$KDIR/boot/vmlinux-$KVER
[ -s "$KERNEL" ] || KERNEL=$KDIR/boot/vmlinuz-$KVER # not xz-compressed: boot the bzImage
[ -r "$KERNEL" ] || die "no kernel image in $KDIR"

# ---- initramfs: static busybox, the modules (with their dependencies, in load order,
# decompressed), and /init below. Cached under a hash of all of those.
guest_init() {
	cat <<'INIT'
#!/bin/sh
# PID 1 of the initramfs: load modules, build the guest root, switch_root into it.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "ctr-vm init: $*" >&2; sync; poweroff -f; } # stderr is the kernel console
while read -r m; do insmod "/lib/modules/$m" || fail "insmod $m"; done </modules

O=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $O,cache=none state /state || fail "no state share"
mount -t 9p -o $O,cache=loose,ro hostroot /lower || fail "no hostroot share"
mount -t tmpfs -o mode=755 tmpfs /upper && mkdir /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /root ||
	fail "overlay mount failed"

R=/root
mount --move /proc $R/proc
mount --move /sys $R/sys
mount --move /dev $R/dev
ln -s /proc/self/fd $R/dev/fd # devtmpfs lacks the links udev would make; bash needs /dev/fd
ln -s fd/0 $R/dev/stdin && ln -s fd/1 $R/dev/stdout && ln -s fd/2 $R/dev/stderr
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=755 tmpfs $R/run
mount -t cgroup2 -o nsdelegate cgroup2 $R/sys/fs/cgroup || fail "cgroup2 mount failed"
for c in $(cat $R/sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >$R/sys/fs/cgroup/cgroup.subtree_control || echo "ctr-vm init: cannot enable $c" >&2
done
read -r CWD </state/cwd
mkdir -p "$R$CWD"
mount -t 9p -o $O,cache=loose,access=client cwd "$R$CWD" || fail "cannot share $CWD"
mkdir $R/run/ctr-vm && mount --move /state $R/run/ctr-vm
hostname ctr-vm
ip link set lo up
[ -c $R/dev/hvc0 ] || fail "no /dev/hvc0"

# -S: the host's systemd becomes PID 1 and runs the same steps as a oneshot unit.
if [ -e $R/run/ctr-vm/systemd ]; then
	mkdir -p $R/etc/systemd/system
	cat >$R/etc/systemd/system/ctr-lane.service <<UNIT
[Unit]
Description=ctr VM lane command
[Service]
Type=oneshot
ExecStart=/bin/bash /run/ctr-vm/lane
UNIT
	cat >$R/run/ctr-vm/lane <<'LANE'
: >/run/ctr-vm/clock && date -s "@$(stat -c %.9Y /run/ctr-vm/clock)" >/dev/null
read -r up _ </proc/uptime; echo "$up" >/run/ctr-vm/t_start
/bin/busybox stty raw -echo </dev/hvc0
/bin/bash /run/ctr-vm/cmd </dev/null >/dev/hvc0 2>&1
echo $? >/run/ctr-vm/rc
read -r up _ </proc/uptime; echo "$up" >/run/ctr-vm/t_end
sync
exec /bin/busybox poweroff -f
LANE
	umount $R/sys/fs/cgroup # systemd mounts its own
	exec switch_root $R /lib/systemd/systemd --unit=ctr-lane.service --log-target=kmsg
fi

# A heartbeat on the kernel console every 60 s: the lane's uptime and each task waiting
# uninterruptibly (D state) with its wait channel. When a lane times out, the console tail
# tells a stalled guest (the beats stop) from a task stuck in the kernel (9p, KVM) from a
# command that only waits. Bash builtins only, so a stalled 9p share cannot stop it.
cat >$R/run/lane-heartbeat <<'BEAT'
mkfifo /run/lane-heartbeat.fifo && exec 9<>/run/lane-heartbeat.fifo || exit 0
while ! read -t 60 -u 9 _; do
	read -r up _ </proc/uptime
	d=
	for s in /proc/[0-9]*/stat; do
		read -r l <"$s" 2>/dev/null || continue
		st=${l##*) }
		[ "${st%% *}" = D ] || continue
		p=${s#/proc/}; p=${p%/stat}
		read -r w <"/proc/$p/wchan" 2>/dev/null
		c=${l#* (}
		d="$d ${c%%) *}[$p]:$w"
	done
	echo "<3>lane heartbeat: up ${up}s; in D state:${d:- none}" >/dev/kmsg
done
BEAT

# switch_root (not chroot) leaves the overlay as the real root mount, so pivot_root(2) works
# for containers started in the guest. The host's bash becomes PID 1: it makes / shared
# like systemd does, sets the clock to the host's (from a file the host just created: no make
# "clock skew" warnings), runs CMD with its output going through a pipe (as under make or CI,
# not a tty) to the virtio console, records the status and powers off. It does not wait
# for EOF on that pipe past 2 s: a daemon CMD left behind may still hold it open.
exec switch_root $R /bin/bash -c '
	mount --make-rshared /
	: >/run/ctr-vm/clock && date -s "@$(stat -c %.9Y /run/ctr-vm/clock)" >/dev/null # RTC: whole s
	read -r up _ </proc/uptime; echo "$up" >/run/ctr-vm/t_start
	/bin/bash /run/lane-heartbeat </dev/null >/dev/null 2>&1 &
	exec 3> >(exec >/dev/hvc0; /bin/busybox stty raw -echo <&1; exec /bin/busybox cat) # raw: no CRLF
	out=$!
	/bin/bash /run/ctr-vm/cmd </dev/null >&3 2>&3
	echo $? >/run/ctr-vm/rc
	read -r up _ </proc/uptime; echo "$up" >/run/ctr-vm/t_end
	exec 3>&-
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 $out 2>/dev/null || break
		sleep 0.1
	done
	sync
	exec /bin/busybox poweroff -f'
INIT
}

MODS="virtio_pci virtio_console 9pnet_virtio 9p overlay $EXTRA_MODS"
# modprobe prints "insmod PATH" per module, dependencies first, and "builtin NAME" for the rest
MODPATHS=$(for m in $MODS; do
	modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" || echo "FAIL $m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 } $1 == "FAIL" { print }')
if grep -q '^FAIL' <<<"$MODPATHS"; then die "unknown module(s): $(grep '^FAIL' <<<"$MODPATHS" | cut -d' ' -f2 | xargs)"; fi
KEY=$({ echo "$KDIR"; echo "$MODPATHS"; guest_init; } | cat - /bin/busybox | sha256sum | cut -c1-16)
INITRD=$CACHE/initrd-$KEY.cpio
if [ ! -s "$INITRD" ]; then
	ir=$(mktemp -d "$CACHE/.tmp.XXXXXX")
	mkdir -p "$ir"/{bin,dev,proc,sys,lib/modules,state,lower,upper,root}
	cp /bin/busybox "$ir/bin/"
	mknod "$ir/dev/console" c 5 1 # init's stdin/out/err
	for a in sh cat echo mkdir mount insmod sync poweroff hostname ip stty switch_root; do
		ln -s busybox "$ir/bin/$a"
	done
	i=10
	while read -r p; do
		n=$i-$(basename "$p") # numbered: the directory listing shows the load order
		n=${n%.xz} n=${n%.zst}
		case $p in
		*.ko.xz) xz -dc "$p" >"$ir/lib/modules/$n" ;;
		*.ko.zst) zstd -qdc "$p" >"$ir/lib/modules/$n" ;;
		*) cp "$p" "$ir/lib/modules/$n" ;;
		esac
		echo "$n"
		i=$((i + 1))
	done <<<"$MODPATHS" >"$ir/modules"
	guest_init >"$ir/init" && chmod 755 "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc -R 0:0 --quiet) >"$ir.cpio"
	mv "$ir.cpio" "$INITRD"
	rm -rf "$ir"
fi
exec 9>&- # unlock; QEMU must not inherit the lock

# ---- per-run state, shared with the guest as tag "state" and mounted at /run/ctr-vm there:
# cwd (the directory to share and start in), cmd (the script CMD runs from), and what the
# guest writes back: rc, t_start, t_end (guest uptime when CMD started and ended).
CWD=$(pwd -P)
STATE=$(mktemp -d "${TMPDIR:-/tmp}/ctr-vm.XXXXXX")
QPID=
cleanup() {
	[ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "$CWD" >"$STATE/cwd"
[ "$SYSTEMD" = 0 ] || : >"$STATE/systemd"
{
	echo "cd $(printf %q "$CWD") || exit 127"
	printf 'exec /usr/bin/env -i PATH=%q HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb CTR_VM=1' "$PATH"
	for e in "${ENVS[@]}"; do
		case $e in
		*=*) printf ' %q' "$e" ;;
		*) [ -z "${!e+set}" ] || printf ' %q' "$e=${!e}" ;;
		esac
	done
	printf ' %q' "$@"
	echo
} >"$STATE/cmd"

# ---- the VM. KVM only where it is hardware KVM: /dev/kvm on these machines is kvm_pvm,
# which cannot boot a stock kernel, so that falls back to TCG.
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
	ACCEL=(-accel kvm -cpu host)
else
	ACCEL=(-accel "tcg,thread=multi" -cpu max)
fi
# quiet: only warnings reach the console log; panic=-1 + -no-reboot: a panic ends QEMU;
# tsc=reliable: no clocksource watchdog falling back to the (slow, emulated) HPET;
# mitigations=off: no speculation workarounds, which only cost time under emulation.
APPEND="console=ttyS0 quiet panic=-1 cgroup_no_v1=all rdinit=/init tsc=reliable mitigations=off 8250.nr_uarts=1"
q() { echo "${1//,/,,}"; } # QEMU option values double their commas
DISK=()
[ -z "$DISK_MB" ] || DISK=(-drive "file=$(q "$STATE/disk.raw"),if=none,format=raw,id=scratch,cache=unsafe"
	-device virtio-blk-pci,drive=scratch)
# -r: a VM that stops without CMD's status (the timeout, or an end without one) is an emulator
# stall, not CMD's result: boot it again from a clean state (3 boots at most) and report that run.
for try in 1 2 3; do
rm -f "$STATE/rc" "$STATE/t_start" "$STATE/t_end" "$STATE/console" "$STATE/disk.raw" "$STATE/stalled"
[ -z "$DISK_MB" ] || truncate -s "${DISK_MB}M" "$STATE/disk.raw" # sparse, thrown away with the state directory
T0=$(date +%s%N)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -M q35 "${ACCEL[@]}" -m "$MEM" -smp "$CPUS" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
	-serial "file:$STATE/console" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev "local,id=cwd,path=$(q "$CWD"),security_model=passthrough,multidevs=remap" \
	-device virtio-9p-pci,fsdev=cwd,mount_tag=cwd \
	-fsdev "local,id=state,path=$(q "$STATE"),security_model=none" \
	-device virtio-9p-pci,fsdev=state,mount_tag=state "${DISK[@]}" \
	-device virtio-serial-pci -chardev stdio,id=out -device virtconsole,chardev=out \
	</dev/null &
QPID=$!
WPID=
# -r: the guest's heartbeat reaches the console every 60 s; when none has come for STALL
# seconds the guest has stopped dead (seen under TCG with nested KVM): end QEMU now rather
# than at the timeout, and boot again. Not with -S, whose PID 1 does not beat.
if [ "$RETRY" = 1 ] && [ "$SYSTEMD" = 0 ]; then
	(
		n=0 last=$SECONDS
		while kill -0 $QPID 2>/dev/null; do
			sleep 5
			c=$(grep -c 'lane heartbeat' "$STATE/console" 2>/dev/null) || c=0
			if [ "$c" != "$n" ]; then
				n=$c last=$SECONDS
			elif [ $((SECONDS - last)) -ge "$STALL" ]; then
				echo "$((SECONDS - last))" >"$STATE/stalled"
				kill $QPID 2>/dev/null
				exit 0
			fi
		done
	) &
	WPID=$!
fi
QRC=0
wait $QPID || QRC=$?
QPID=
[ -z "$WPID" ] || { kill $WPID 2>/dev/null || true; wait $WPID 2>/dev/null || true; }
T1=$(date +%s%N)

if [ "$VERBOSE" = 1 ]; then
	sed 's/^/[console] /' "$STATE/console" >&2
	echo "vmrun: ${ACCEL[1]} wall=$(((T1 - T0) / 1000000))ms guest uptime at CMD start=$(cat "$STATE/t_start" 2>/dev/null)s end=$(cat "$STATE/t_end" 2>/dev/null)s" >&2
fi
if [ -s "$STATE/rc" ]; then exit "$(cat "$STATE/rc")"; fi
if [ -s "$STATE/stalled" ]; then
	echo "vmrun: no heartbeat from the guest for $(cat "$STATE/stalled")s: QEMU ended as stalled; kernel console tail:" >&2
	tail -n 30 "$STATE/console" >&2
	rc=124
elif [ $QRC = 124 ]; then
	echo "vmrun: timed out after ${TIMEOUT}s; kernel console tail:" >&2
	tail -n 30 "$STATE/console" >&2
	rc=124
else
	echo "vmrun: VM ended (qemu exit $QRC) without reporting CMD's status; kernel console tail:" >&2
	tail -n 40 "$STATE/console" >&2
	rc=125
fi
{ [ "$RETRY" = 1 ] && [ $try -lt 3 ]; } || exit $rc
echo "vmrun: the VM stopped without CMD's status (exit $rc): booting it again (-r, boot $((try + 1)) of 3)" >&2
done

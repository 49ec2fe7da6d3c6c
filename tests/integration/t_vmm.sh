# vm/'s VMM core against the real /dev/kvm (on these machines a PVM-backed one, which runs these
# tiny guests fine): long-mode entry, COM1 output, the zero page in %rsi, the identity map, the
# 8250 loopback check Linux's driver does, i8042 reset and triple fault as VM ends; and the
# bzImage header of the VM lane's Debian kernel, when it is cached.
[ -n "${VM_SMOKE:-}" ] && [ -x "$VM_SMOKE" ] || { echo "skipped: VM_SMOKE not built"; exit 0; }
[ -c /dev/kvm ] || { echo "skipped: no /dev/kvm"; exit 0; }
g=$VM_GUESTS
run_guest() { # run_guest NAME -> stdout of the guest; the end line in $end
        local e
        e=$(mktemp)
        "$VM_SMOKE" "$g/$1.bin" 2>"$e" || fail "$1: vm-smoke failed: $(cat "$e")"
        end=$(cat "$e")
        rm -f "$e"
}
out=$(run_guest hello; echo "|$end")
assert_eq "$out" "hello from the guest
|end=debug-exit code=42" "hello"
run_guest zeropage >/dev/null
assert_eq "$end" "end=debug-exit code=19" "zero page: 3 e820 entries + boot flag"
run_guest memory >/dev/null
assert_eq "$end" "end=debug-exit code=1" "identity-mapped memory"
run_guest loopback >/dev/null
assert_eq "$end" "end=debug-exit code=1" "8250 loopback"
run_guest reset >/dev/null
assert_eq "$end" "end=reset code=0" "i8042 reset"
run_guest triple >/dev/null
assert_eq "$end" "end=shutdown code=0" "triple fault"
# Bad input: one clear line, status 125.
err=$("$VM_SMOKE" "$g/hello.bin" 1 2>&1 >/dev/null) && fail "1 MiB of memory accepted"
assert_match "$err" "memory 1 MiB is outside 2-3072 MiB" "memory bound"
err=$("$VM_SMOKE" --bzimage-info "$g/hello.bin" 2>&1) && fail "a raw payload passed as bzImage"
assert_match "$err" "neither a bzImage nor an ELF vmlinux" "bzImage check"
k=$(ls /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -n "$k" ]; then
        assert_match "$("$VM_SMOKE" --bzimage-info "$k")" "^version=20[c-f] setup_sects=[0-9]+ init_size=[0-9]+" "Debian bzImage header"
fi

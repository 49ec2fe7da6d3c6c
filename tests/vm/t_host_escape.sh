# VM lane: the escape probes again, on a distribution kernel that has /proc/kcore and
# /proc/sysrq-trigger (this host's kernel lacks both).
. "$T_HERE/t_escape.sh"

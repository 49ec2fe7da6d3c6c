# VM lane: the host test freeze again, on a pure cgroup v2 kernel.
. "$T_HERE/t_freeze.sh"

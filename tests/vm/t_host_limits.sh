# VM lane: the host test limits again, on a pure cgroup v2 kernel.
. "$T_HERE/t_limits.sh"

# VM lane: the host test delegation again, on a pure cgroup v2 kernel.
. "$T_HERE/t_delegation.sh"

# VM lane: the host test devices again, on a pure cgroup v2 kernel.
. "$T_HERE/t_devices.sh"

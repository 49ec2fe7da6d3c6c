/* Shared by the agent and relay tests: ctr-vminit --agent on a socketpair, as a VM's agent. */
#pragma once

#include <sys/types.h>

/* The host end of the agent's link; *ret_pid is the agent's process. */
int test_agent_spawn(pid_t *ret_pid);

/* fleet Linux init: the hypervisor channel (port org.fleet.hypervisor) as
 * the unix socket FLEET_HYPERVISOR_SOCKET for the guest's programs, so that
 * libvirt's own clients (virsh, python-libvirt, fsh) work inside the guest
 * unchanged. bridge.c says how. */
#ifndef FLEET_LINUX_BRIDGE_H
#define FLEET_LINUX_BRIDGE_H

#include <sys/types.h>

/* Forks the bridge for the channel's port devices (/dev/vportNpM, in port
 * order), which closes init's own fds (close_fds[n]) and listens before
 * this returns; its pid, or -1 (errno). */
pid_t hypervisor_bridge_start(const char* const* devs, int ndevs, const int* close_fds, int n);

#endif

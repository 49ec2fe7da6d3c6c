/* TAP devices for VM-mode containers: the VMM's virtio-net reads and writes frames on the fd. */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../base/util.h"

int ctr_tap_open(const char *name, int *ret_fd, struct ctr_error *err)
{
        _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "tap", "open /dev/net/tun");
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
        if (strlen(name) >= sizeof(ifr.ifr_name))
                return ctr_err(err, ENAMETOOLONG, "tap", "name %s is too long", name);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return ctr_err_sys(err, errno, "tap", "create %s", name);
        /* virtio 1.x always carries num_buffers: 12 bytes, not the legacy 10. */
        int hdr = 12;
        if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
                return ctr_err_sys(err, errno, "tap", "%s: set the virtio-net header size", name);
        /* The guest is offered no checksum or segmentation offload: the TAP hands whole frames. */
        if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
                return ctr_err_sys(err, errno, "tap", "%s: turn offloads off", name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

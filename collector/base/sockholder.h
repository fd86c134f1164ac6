/*
 * sockholder.h - who else receives on a port we listen on.
 *
 * Every worker binds its own SO_REUSEPORT socket to each UDP listener, and
 * the kernel spreads datagrams over every socket in the group by flow
 * hash.  The kernel lets any process of the same user join that group: a
 * second peerscope (or one left over from an earlier start) would start
 * silently and take part of the exporters, each instance seeing a
 * fraction of them.  So before binding, and again once every socket of
 * ours is bound (two instances starting at the same moment), the
 * collector asks the kernel (NETLINK_SOCK_DIAG) for every UDP socket on
 * the port that is not connected, and refuses to run if one whose address
 * overlaps ours is not its own: "address in use (held by PID N)".
 *
 * Overlap is the kernel's delivery rule: the same address, or a wildcard
 * (0.0.0.0, or [::] without IPV6_V6ONLY, which also takes IPv4) on either
 * side.  Connected sockets are left out: they receive only from their
 * peer.  TCP listeners need no such check (they do not use SO_REUSEPORT,
 * so a second bind fails), but their EADDRINUSE names the holder the
 * same way.
 *
 * The holder's PID comes from the socket's inode in /proc/<pid>/fd; a
 * process of another user may hide it (then only its uid is known).
 *
 * @thread main (start-up), @locks none.
 */
#ifndef PEERSCOPE_SOCKHOLDER_H
#define PEERSCOPE_SOCKHOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "peerscope/addr.h"

struct sock_holder {
	ino_t inode;
	uid_t uid;
	pid_t pid; /* 0 when /proc did not tell */
	char comm[32];
	char local[64]; /* its address:port */
};

/*
 * A UDP socket, not connected and not among own[0..nown) (inodes), that
 * would receive datagrams sent to addr:port (addr af 4 or 6, all zero for
 * a wildcard; our IPv6 sockets are v6-only).  1 with *h, 0 none, -1 when
 * the kernel could not be asked (err says why).
 */
int sockholder_find_udp(const struct ps_addr *addr, uint16_t port,
			const ino_t *own, size_t nown, struct sock_holder *h,
			char *err, size_t errlen);

/* A TCP socket listening on port (any address).  1, 0 or -1 as above. */
int sockholder_find_tcp_listener(uint16_t port, struct sock_holder *h,
				 char *err, size_t errlen);

/* "held by PID 1234 (peerscope)", or by uid when the PID is hidden. */
void sockholder_describe(const struct sock_holder *h, char *buf, size_t len);

/*
 * After a bind failed with EADDRINUSE: "address in use (held by PID ...)",
 * or "address in use" when the holder cannot be found.
 */
void sockholder_in_use(bool udp, const struct ps_addr *addr, uint16_t port,
		       char *buf, size_t len);

/* The inode of a socket we hold, for `own`; 0 if fstat fails. */
ino_t sockholder_inode(int fd);

#endif /* PEERSCOPE_SOCKHOLDER_H */

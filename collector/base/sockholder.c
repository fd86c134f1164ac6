/* sockholder.c - see sockholder.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sockholder.h"

#define DIAG_BUF 32768

/* What one dump looks for, and the first match. */
struct diag_match {
	bool udp;		    /* else a TCP listener on any address */
	const struct ps_addr *addr; /* UDP: our address (af 4 or 6) */
	uint16_t port;
	const ino_t *own;
	size_t nown;
	bool found;
	struct sock_holder h;
};

static bool is_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* ::ffff:a.b.c.d, as an IPv4 socket address seen by a dual-stack one. */
static bool is_v4_mapped(const uint8_t *b)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, prefix, 12) == 0;
}

/*
 * Would a socket of family `fam` bound to `src` (v6only for IPv6) get
 * datagrams sent to our addr?  The kernel's delivery rule (header).
 */
static bool overlaps(const struct ps_addr *ours, int fam, const uint8_t *src,
		     bool v6only)
{
	if (ours->af == 4 && fam == AF_INET)
		return is_zero(src, 4) || is_zero(ours->bytes, 4) ||
		       memcmp(src, ours->bytes, 4) == 0;
	if (ours->af == 4 && fam == AF_INET6)
		return !v6only && (is_zero(src, 16) ||
				   (is_v4_mapped(src) &&
				    (is_zero(ours->bytes, 4) ||
				     memcmp(src + 12, ours->bytes, 4) == 0)));
	if (ours->af == 6 && fam == AF_INET6)
		return is_zero(src, 16) || is_zero(ours->bytes, 16) ||
		       memcmp(src, ours->bytes, 16) == 0;
	return false; /* our IPv6 sockets are v6-only */
}

static bool is_own(const struct diag_match *m, ino_t ino)
{
	for (size_t i = 0; i < m->nown; i++)
		if (m->own[i] == ino)
			return true;
	return false;
}

/* INET_DIAG_SKV6ONLY among the attributes after the message. */
static bool msg_v6only(const struct nlmsghdr *nh, const struct inet_diag_msg *d)
{
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*d));
	const struct rtattr *a = (const struct rtattr *)(d + 1);

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
			return *(const uint8_t *)RTA_DATA(a) != 0;
	return false;
}

static void take(struct diag_match *m, const struct inet_diag_msg *d)
{
	char host[INET6_ADDRSTRLEN];

	m->found = true;
	memset(&m->h, 0, sizeof(m->h));
	m->h.inode = d->idiag_inode;
	m->h.uid = d->idiag_uid;
	inet_ntop(d->idiag_family, d->id.idiag_src, host, sizeof(host));
	snprintf(m->h.local, sizeof(m->h.local),
		 d->idiag_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		 ntohs(d->id.idiag_sport));
}

static void consider(struct diag_match *m, const struct nlmsghdr *nh)
{
	const struct inet_diag_msg *d = NLMSG_DATA(nh);

	if (m->found || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*d)) ||
	    ntohs(d->id.idiag_sport) != m->port || is_own(m, d->idiag_inode))
		return;
	if (m->udp &&
	    (!is_zero((const uint8_t *)d->id.idiag_dst, 16) ||
	     d->id.idiag_dport != 0 ||
	     !overlaps(m->addr, d->idiag_family,
		       (const uint8_t *)d->id.idiag_src,
		       d->idiag_family == AF_INET6 && msg_v6only(nh, d))))
		return; /* connected, or on another address */
	take(m, d);
}

/* One SOCK_DIAG_BY_FAMILY dump: 0, or -1 with err. */
static int diag_dump(struct diag_match *m, int family, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	uint8_t *buf = malloc(DIAG_BUF);
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	int rc = -1;

	if (buf == NULL || fd == -1)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = m->udp ? IPPROTO_UDP : IPPROTO_TCP;
	/* bound, unconnected UDP sockets are in state TCP_CLOSE */
	req.r.idiag_states = m->udp ? 1U << TCP_CLOSE : 1U << TCP_LISTEN;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl,
		   sizeof(nl)) == -1)
		goto fail;
	for (;;) {
		ssize_t n = recv(fd, buf, DIAG_BUF, 0);
		size_t off = 0;

		if (n <= 0)
			goto fail;
		/* each message whole inside what was received, or stop */
		while (off + sizeof(struct nlmsghdr) <= (size_t)n) {
			const struct nlmsghdr *nh =
				(const struct nlmsghdr *)(buf + off);

			if (nh->nlmsg_len < sizeof(*nh) ||
			    nh->nlmsg_len > (size_t)n - off)
				break;
			off += NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				errno = nh->nlmsg_len >= NLMSG_LENGTH(
								 sizeof(*e)) &&
							e->error < 0 ?
						-e->error :
						EPROTO;
				goto fail;
			}
			consider(m, nh);
		}
	}
fail:
	snprintf(err, errlen, "sock_diag: %s", strerror(errno));
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/* "socket:[12345]" in some process's fd table: its PID and name. */
static void find_pid(struct sock_holder *h)
{
	char want[48], path[600], link[64];
	DIR *procs = opendir("/proc");
	struct dirent *p;

	if (procs == NULL)
		return;
	snprintf(want, sizeof(want), "socket:[%llu]",
		 (unsigned long long)h->inode);
	while (h->pid == 0 && (p = readdir(procs)) != NULL) {
		DIR *fds;
		struct dirent *f;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (fds == NULL)
			continue; /* gone, or not ours to read */
		while ((f = readdir(fds)) != NULL) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0) {
				h->pid = (pid_t)atoi(p->d_name);
				break;
			}
		}
		closedir(fds);
	}
	closedir(procs);
	if (h->pid != 0) {
		FILE *c;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)h->pid);
		c = fopen(path, "re");
		if (c != NULL) {
			if (fgets(h->comm, sizeof(h->comm), c) != NULL)
				h->comm[strcspn(h->comm, "\n")] = '\0';
			fclose(c);
		}
	}
}

static int find(struct diag_match *m, struct sock_holder *h, char *err,
		size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < 2 && !m->found; i++)
		if (diag_dump(m, families[i], err, errlen) == -1)
			return -1;
	if (!m->found)
		return 0;
	*h = m->h;
	find_pid(h);
	return 1;
}

int sockholder_find_udp(const struct ps_addr *addr, uint16_t port,
			const ino_t *own, size_t nown, struct sock_holder *h,
			char *err, size_t errlen)
{
	struct diag_match m = { .udp = true,
				.addr = addr,
				.port = port,
				.own = own,
				.nown = nown };

	return find(&m, h, err, errlen);
}

int sockholder_find_tcp_listener(uint16_t port, struct sock_holder *h,
				 char *err, size_t errlen)
{
	struct diag_match m = { .udp = false, .port = port };

	return find(&m, h, err, errlen);
}

void sockholder_describe(const struct sock_holder *h, char *buf, size_t len)
{
	if (h->pid != 0)
		snprintf(buf, len, "held by PID %d%s%s on %s", (int)h->pid,
			 h->comm[0] ? ": " : "", h->comm, h->local);
	else
		snprintf(buf, len,
			 "held by a process of uid %u on %s (its PID is not "
			 "visible to this user)",
			 (unsigned)h->uid, h->local);
}

ino_t sockholder_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

void sockholder_in_use(bool udp, const struct ps_addr *addr, uint16_t port,
		       char *buf, size_t len)
{
	struct sock_holder h;
	char who[200], err[160];
	int rc = udp ? sockholder_find_udp(addr, port, NULL, 0, &h, err,
					   sizeof(err)) :
		       sockholder_find_tcp_listener(port, &h, err, sizeof(err));

	if (rc == 1) {
		sockholder_describe(&h, who, sizeof(who));
		snprintf(buf, len, "address in use (%s)", who);
	} else {
		snprintf(buf, len, "address in use");
	}
}

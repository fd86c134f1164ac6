/* udp.c - see udp.h. */
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sockholder.h"
#include "ingest/worker_state.h"
#include "peerscope/limits.h"
#include "rx/udp.h"

#define UDP_CTRL_LEN		  64 /* room for the SO_RXQ_OVFL cmsg */

static int sockaddr_from(const struct ps_listen *l, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (l->addr.af == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		memcpy(&s6->sin6_addr, l->addr.bytes, 16);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(l->port);
	memcpy(&s4->sin_addr, l->addr.bytes, 4);
	*len = sizeof(*s4);
	return AF_INET;
}

static int rx_alloc(struct udp_rx *rx, uint32_t batch)
{
	rx->batch = batch;
	rx->msgs = calloc(batch, sizeof(*rx->msgs));
	rx->iov = calloc(batch, sizeof(*rx->iov));
	rx->addrs = calloc(batch, sizeof(*rx->addrs));
	rx->bufs = malloc((size_t)batch * PS_MAX_DATAGRAM);
	rx->ctrl = calloc(batch, UDP_CTRL_LEN);
	if (rx->msgs == NULL || rx->iov == NULL || rx->addrs == NULL ||
	    rx->bufs == NULL || rx->ctrl == NULL)
		return -1;
	for (uint32_t i = 0; i < batch; i++) {
		rx->iov[i].iov_base = rx->bufs + (size_t)i * PS_MAX_DATAGRAM;
		rx->iov[i].iov_len = PS_MAX_DATAGRAM;
		rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msgs[i].msg_hdr.msg_iovlen = 1;
		rx->msgs[i].msg_hdr.msg_name = &rx->addrs[i];
		rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->addrs[i]);
		rx->msgs[i].msg_hdr.msg_control = rx->ctrl + i * UDP_CTRL_LEN;
		rx->msgs[i].msg_hdr.msg_controllen = UDP_CTRL_LEN;
	}
	return 0;
}

static void set_rcvbuf(struct udp_rx *rx, uint32_t rcvbuf)
{
	int want = rcvbuf > INT32_MAX / 2 ? INT32_MAX / 2 : (int)rcvbuf;
	socklen_t len = sizeof(rx->rcvbuf_actual);

	/* FORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN. */
	if (setsockopt(rx->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want,
		       sizeof(want)) == -1)
		(void)setsockopt(rx->fd, SOL_SOCKET, SO_RCVBUF, &want,
				 sizeof(want));
	if (getsockopt(rx->fd, SOL_SOCKET, SO_RCVBUF, &rx->rcvbuf_actual,
		       &len) == -1)
		rx->rcvbuf_actual = -1;
}

int udp_rx_open(struct udp_rx *rx, const struct ps_listen *l, uint32_t rcvbuf,
		uint32_t batch, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int one = 1;
	int af = sockaddr_from(l, &ss, &sslen);
	char addr[64], why[300];

	memset(rx, 0, sizeof(*rx));
	rx->fd = -1;
	rx->proto = l->proto;
	rx->port = l->port;
	ps_addr_format(&l->addr, addr, sizeof(addr));
	if (rx_alloc(rx, batch) == -1) {
		snprintf(err, errlen, "out of memory for %u receive buffers",
			 batch);
		return -1;
	}
	rx->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rx->fd == -1)
		goto fail;
	if (setsockopt(rx->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ==
		    -1 ||
	    setsockopt(rx->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) ==
		    -1)
		goto fail;
	/* [::] and 0.0.0.0 are separate listeners: keep v6 sockets v6-only. */
	if (af == AF_INET6 && setsockopt(rx->fd, IPPROTO_IPV6, IPV6_V6ONLY,
					 &one, sizeof(one)) == -1)
		goto fail;
	set_rcvbuf(rx, rcvbuf);
	if (bind(rx->fd, (struct sockaddr *)&ss, sslen) == -1)
		goto fail;
	return 0;
fail:
	if (errno == EADDRINUSE)
		sockholder_in_use(true, &l->addr, l->port, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(errno));
	snprintf(err, errlen, "listen.%s %s port %u: %s",
		 ps_proto_name(l->proto), addr, l->port, why);
	udp_rx_close_all(rx, 1);
	return -1;
}

void udp_rx_close_all(struct udp_rx *rx, unsigned n)
{
	if (rx == NULL)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (rx[i].fd >= 0)
			close(rx[i].fd);
		rx[i].fd = -1;
		free(rx[i].msgs);
		free(rx[i].iov);
		free(rx[i].addrs);
		free(rx[i].bufs);
		free(rx[i].ctrl);
		rx[i].msgs = NULL;
		rx[i].iov = NULL;
		rx[i].addrs = NULL;
		rx[i].bufs = NULL;
		rx[i].ctrl = NULL;
	}
}

void udp_rx_poll(struct udp_rx *rx, unsigned n, int timeout_ms)
{
	struct pollfd pfd[PS_MAX_LISTEN];

	if (n > PS_MAX_LISTEN)
		n = PS_MAX_LISTEN;
	for (unsigned i = 0; i < n; i++) {
		pfd[i].fd = rx[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	(void)poll(pfd, n, timeout_ms);
}

/*
 * The kernel keeps one running 32-bit drop count per socket (sk_drops).
 * SO_RXQ_OVFL hands it over with each received datagram; SO_MEMINFO reads
 * it on demand, which also catches drops after the last datagram received.
 * Both feed ovfl_seen; drops are the distance from what was last taken.
 */
static void note_drop_count(struct udp_rx *rx, uint32_t v)
{
	/* modulo-2^32 distance: the newer of two readings wins */
	if ((int32_t)(v - rx->ovfl_seen) > 0)
		rx->ovfl_seen = v;
}

static void note_overflow(struct udp_rx *rx, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	     cm = CMSG_NXTHDR(mh, cm)) {
		uint32_t v;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SO_RXQ_OVFL)
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		note_drop_count(rx, v);
	}
}

static void read_meminfo_drops(struct udp_rx *rx)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (rx->fd >= 0 &&
	    getsockopt(rx->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len >= sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
		note_drop_count(rx, mem[SK_MEMINFO_DROPS]);
}

uint32_t udp_rx_recv(struct udp_rx *rx)
{
	int n;

	for (uint32_t i = 0; i < rx->batch; i++) {
		rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->addrs[i]);
		rx->msgs[i].msg_hdr.msg_controllen = UDP_CTRL_LEN;
	}
	n = recvmmsg(rx->fd, rx->msgs, rx->batch, MSG_DONTWAIT, NULL);
	return n > 0 ? (uint32_t)n : 0;
}

bool udp_rx_datagram(struct udp_rx *rx, uint32_t i,
		     const struct netaddr_allow *allow, uint64_t now_ns,
		     struct rx_datagram *d)
{
	note_overflow(rx, &rx->msgs[i].msg_hdr);
	netaddr_from_sockaddr(&rx->addrs[i], &d->src, &d->src_port);
	if (!netaddr_allow_match(allow, &d->src))
		return false;
	d->ts_ns = now_ns;
	d->dst_port = rx->port;
	d->proto = rx->proto;
	d->data = rx->iov[i].iov_base;
	d->len = rx->msgs[i].msg_len;
	return true;
}

uint64_t udp_rx_take_drops(struct udp_rx *rx, unsigned n)
{
	uint64_t total = 0;

	if (rx == NULL)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		read_meminfo_drops(&rx[i]);
		total += (uint32_t)(rx[i].ovfl_seen - rx[i].ovfl_taken);
		rx[i].ovfl_taken = rx[i].ovfl_seen;
	}
	return total;
}

int udp_listeners_exclusive(const struct ps_config *cfg,
			    const struct worker *workers, unsigned nworkers,
			    bool bound, struct logger *log, char *err,
			    size_t errlen)
{
	ino_t own[PS_MAX_WORKERS];

	for (uint32_t i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *l = &cfg->listen[i];
		struct sock_holder h;
		char why[160], who[200], addr[64];
		size_t nown = 0;
		int rc;

		for (unsigned w = 0; bound && w < nworkers; w++)
			if (workers[w].rx != NULL && i < workers[w].rx_count)
				own[nown++] = sockholder_inode(
					workers[w].rx[i].fd);
		rc = sockholder_find_udp(&l->addr, l->port, own, nown, &h, why,
					 sizeof(why));
		if (rc == -1) {
			log_event(log, PS_LOG_WARN, "listener_check_failed",
				  "cannot tell whether another process "
				  "receives on our ports (%s); a second "
				  "instance would not be detected",
				  why);
			return 0;
		}
		if (rc == 0)
			continue;
		ps_addr_format(&l->addr, addr, sizeof(addr));
		sockholder_describe(&h, who, sizeof(who));
		snprintf(err, errlen,
			 "listen.%s %s port %u: address in use (%s): two "
			 "receivers on one port would split the exporters "
			 "between them",
			 ps_proto_name(l->proto), addr, l->port, who);
		return -1;
	}
	return 0;
}

void udp_listeners_log(const struct ps_config *cfg, unsigned nworkers,
		       struct logger *log)
{
	for (uint32_t i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *l = &cfg->listen[i];
		char addr[64], port[8], n[8];

		ps_addr_format(&l->addr, addr, sizeof(addr));
		snprintf(port, sizeof(port), "%u", l->port);
		snprintf(n, sizeof(n), "%u", nworkers);
		log_event_fields(log, PS_LOG_INFO, "listening",
				 LOG_FIELDS({ "protocol", ps_proto_name(l->proto) },
					    { "transport", "udp" },
					    { "address", addr }, { "port", port },
					    { "workers", n }),
				 "%s on udp %s port %s: one SO_REUSEPORT "
				 "socket per worker (%s)",
				 ps_proto_name(l->proto), addr, port, n);
	}
}

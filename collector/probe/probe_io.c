/*
 * probe_io.c - the probe engine's sockets: opening them, sending each
 * method's probe, reading replies with their kernel timestamps, matching
 * kernel TX timestamps to sends, and TCP connects (probe_int.h).
 *
 * Timestamps.  With probes.kernel_timestamps, each ICMP and STAMP socket
 * gets SO_TIMESTAMPING with software RX and TX stamps, OPT_ID and
 * OPT_TSONLY: a reply carries the kernel's receive time, and each send
 * queues its transmit time on the error queue with a key that counts the
 * socket's sends.  We remember which probe each key was (a ring of
 * PROBE_TXMAP sends) and replace the user-space send time by the kernel's
 * when it is plausible (not before the user-space time, within 1 s of
 * it).  A failed send may or may not have used a key, so after one the
 * keys are reset (OPT_ID off and on again restarts them at 0) before the
 * next send.  The error queue is read before the replies, so a probe's
 * TX stamp is in place when its reply is timed.  Both stamps are
 * CLOCK_REALTIME, the clock the user-space fallback reads too.
 */
#include "probe/probe.h"
#include "probe/probe_icmp.h"
#include "probe/probe_int.h"
#include "probe/probe_stamp.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX_BUF	    1500
#define RX_CONTROL  256
#define TX_MAX_SKEW 1000000000LL /* kernel TX stamp within 1 s of ours */

struct probe_rx {
	struct mmsghdr msg[PROBE_RX_BATCH];
	struct iovec iov[PROBE_RX_BATCH];
	struct sockaddr_storage from[PROBE_RX_BATCH];
	uint8_t buf[PROBE_RX_BATCH][RX_BUF];
	union {
		char b[RX_CONTROL];
		struct cmsghdr align;
	} control[PROBE_RX_BATCH];
};

static const int tstamp_flags =
	SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
	SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
	SOF_TIMESTAMPING_OPT_TSONLY;

/* ---- addresses ------------------------------------------------------ */

static socklen_t to_sockaddr(const struct ps_addr *a, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->af == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
}

/* The address (and port) a datagram came from. */
static int from_sockaddr(const struct sockaddr_storage *ss, struct ps_addr *a,
			 uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		a->af = 4;
		memcpy(a->bytes, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		a->af = 6;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

static bool addr_equal(const struct ps_addr *a, const struct ps_addr *b)
{
	return a->af == b->af &&
	       memcmp(a->bytes, b->bytes, a->af == 4 ? 4 : 16) == 0;
}

/* ---- sockets -------------------------------------------------------- */

static void sock_options(struct probe_engine *e, struct probe_sock *k)
{
	int one = 1, rcvbuf = PROBE_RCVBUF;

	/* best effort: a smaller buffer or no drop count is not fatal */
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) == -1)
		(void)setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	(void)setsockopt(k->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (!e->pc.kernel_timestamps)
		return;
	if (setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPING, &tstamp_flags,
		       sizeof(tstamp_flags)) == 0) {
		k->tx_stamps = k->rx_stamps = true;
	} else {
		int rx = SOF_TIMESTAMPING_SOFTWARE |
			 SOF_TIMESTAMPING_RX_SOFTWARE;

		k->rx_stamps = setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPING,
					  &rx, sizeof(rx)) == 0;
	}
}

/* Watch k for replies: one-shot where its RX timestamps allow pauses. */
static int sock_arm(struct probe_engine *e, struct probe_sock *k, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (k->rx_stamps ? EPOLLONESHOT : 0),
		.data.u64 = probe_tag(PROBE_TAG_SOCK, 0, k->index),
	};

	return epoll_ctl(e->epfd, op, k->fd, &ev);
}

static int sock_watch(struct probe_engine *e, struct probe_sock *k,
		      uint32_t index)
{
	k->txmap = calloc(PROBE_TXMAP, sizeof(*k->txmap));
	k->tx = calloc(1, sizeof(*k->tx));
	if (k->txmap == NULL || k->tx == NULL)
		return -1;
	k->index = index;
	return sock_arm(e, k, EPOLL_CTL_ADD);
}

static bool method_has_family(const struct probe_engine *e, enum probe_method m,
			      int af)
{
	if (!probe_method_config(&e->pc, m)->enabled)
		return false;
	for (uint32_t t = 0; t < e->ntargets; t++)
		if (e->targets[t].addr.af == af)
			return true;
	return false;
}

static int open_icmp(struct probe_engine *e, int af, char *err, size_t errlen)
{
	struct probe_sock *k = &e->icmp[af == 6];
	enum ps_probe_icmp_socket got;
	char why[400];

	k->fd = probe_icmp_open(af, e->pc.icmp_socket, &got, why, sizeof(why));
	if (k->fd == -1) {
		snprintf(err, errlen, "probes.icmp: %s", why);
		return -1;
	}
	e->icmp_kind = got;
	k->af = af;
	k->method = PROBE_ICMP;
	k->raw = got == PS_PROBE_ICMP_RAW;
	k->ip_header = k->raw && af == 4;
	sock_options(e, k);
	if (sock_watch(e, k, af == 6) == -1) {
		snprintf(err, errlen, "probes.icmp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int open_stamp(struct probe_engine *e, int af, char *err, size_t errlen)
{
	struct probe_sock *k = &e->stamp[af == 6];
	int ttl = STAMP_DEFAULT_TTL;

	k->fd = socket(af == 6 ? AF_INET6 : AF_INET,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd == -1 ||
	    (af == 4 &&
	     setsockopt(k->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == -1) ||
	    (af == 6 && setsockopt(k->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
				   sizeof(ttl)) == -1)) {
		snprintf(err, errlen, "probes.stamp: IPv%d UDP socket: %s", af,
			 strerror(errno));
		return -1;
	}
	k->af = af;
	k->method = PROBE_STAMP;
	sock_options(e, k);
	if (sock_watch(e, k, 2 + (af == 6)) == -1) {
		snprintf(err, errlen, "probes.stamp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int probe_io_open(struct probe_engine *e, char *err, size_t errlen)
{
	e->rx = calloc(1, sizeof(*e->rx));
	if (e->rx == NULL) {
		snprintf(err, errlen, "probes: out of memory");
		return -1;
	}
	for (int i = 0; i < PROBE_RX_BATCH; i++) {
		e->rx->iov[i].iov_base = e->rx->buf[i];
		e->rx->iov[i].iov_len = RX_BUF;
	}
	for (int af = 4; af <= 6; af += 2) {
		if (method_has_family(e, PROBE_ICMP, af) &&
		    open_icmp(e, af, err, errlen) == -1)
			return -1;
		if (method_has_family(e, PROBE_STAMP, af) &&
		    open_stamp(e, af, err, errlen) == -1)
			return -1;
	}
	return 0;
}

void probe_io_close(struct probe_engine *e)
{
	for (uint32_t s = 0; s < e->nslots && e->slot; s++)
		for (uint32_t i = 0; i < e->pending_n; i++)
			probe_io_tcp_close(e, &e->slot[s].pending[i]);
	for (int i = 0; i < 2; i++) {
		struct probe_sock *k[2] = { &e->icmp[i], &e->stamp[i] };

		for (int j = 0; j < 2; j++) {
			if (k[j]->fd != -1)
				close(k[j]->fd);
			k[j]->fd = -1;
			free(k[j]->txmap);
			free(k[j]->tx);
			k[j]->txmap = NULL;
			k[j]->tx = NULL;
		}
	}
	free(e->rx);
	e->rx = NULL;
}

const char *probe_engine_socket_kind(const struct probe_engine *e,
				     enum probe_method m)
{
	switch (m) {
	case PROBE_ICMP:
		return e->icmp_kind == PS_PROBE_ICMP_RAW ? "raw" : "dgram";
	case PROBE_TCP:
		return "connect";
	case PROBE_STAMP:
	default:
		return "udp";
	}
}

/* ---- TX timestamps -------------------------------------------------- */

/* The kernel's TX time for the send with this key. */
static void tx_stamp(struct probe_engine *e, struct probe_sock *k, uint32_t key,
		     int64_t ts)
{
	struct probe_txmap_entry *m = &k->txmap[key % PROBE_TXMAP];
	struct probe_pending *p;

	if (!m->used || m->key != key)
		return;
	m->used = false;
	p = probe_in_flight(e, &e->slot[m->slot], m->probe);
	if (p == NULL || ts < p->tx_real_ns || ts - p->tx_real_ns > TX_MAX_SKEW)
		return;
	p->tx_real_ns = ts;
	p->tx_kernel = true;
}

/* The TX timestamp and OPT_ID key of one error-queue message. */
static void errqueue_message(struct probe_engine *e, struct probe_sock *k,
			     struct msghdr *m)
{
	int64_t ts = 0, key = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL;
	     c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPING) {
			struct scm_timestamping t;

			memcpy(&t, CMSG_DATA(c), sizeof(t));
			ts = (int64_t)t.ts[0].tv_sec * 1000000000LL +
			     t.ts[0].tv_nsec;
		} else if ((c->cmsg_level == SOL_IP &&
			    c->cmsg_type == IP_RECVERR) ||
			   (c->cmsg_level == SOL_IPV6 &&
			    c->cmsg_type == IPV6_RECVERR)) {
			struct sock_extended_err x;

			memcpy(&x, CMSG_DATA(c), sizeof(x));
			if (x.ee_origin == SO_EE_ORIGIN_TIMESTAMPING)
				key = x.ee_data;
		}
	}
	if (ts > 0 && key >= 0)
		tx_stamp(e, k, (uint32_t)key, ts);
}

/* Every queued TX timestamp, a batch per system call. */
static void read_errqueue(struct probe_engine *e, struct probe_sock *k)
{
	struct probe_rx *rx = e->rx;

	for (int round = 0; round < PROBE_RX_ROUNDS; round++) {
		int n;

		for (int i = 0; i < PROBE_RX_BATCH; i++) {
			struct msghdr *m = &rx->msg[i].msg_hdr;

			memset(m, 0, sizeof(*m));
			m->msg_iov = &rx->iov[i];
			m->msg_iovlen = 1;
			m->msg_control = rx->control[i].b;
			m->msg_controllen = sizeof(rx->control[i].b);
		}
		n = recvmmsg(k->fd, rx->msg, PROBE_RX_BATCH,
			     MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			errqueue_message(e, k, &rx->msg[i].msg_hdr);
		if (n < PROBE_RX_BATCH)
			return;
	}
}

/* After a failed send: forget the keys and restart them at 0. */
static void tx_resync(struct probe_engine *e, struct probe_sock *k)
{
	int without = tstamp_flags & ~SOF_TIMESTAMPING_OPT_ID;

	read_errqueue(e, k);
	memset(k->txmap, 0, PROBE_TXMAP * sizeof(*k->txmap));
	k->tx_key = 0;
	k->tx_resync = false;
	e->c.tx_ts_resync++;
	if (setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPING, &without,
		       sizeof(without)) == -1 ||
	    setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPING, &tstamp_flags,
		       sizeof(tstamp_flags)) == -1)
		k->tx_stamps = false; /* user-space times from now on */
}

/* ---- sending -------------------------------------------------------- */

/*
 * Send what k has queued, in one sendmmsg() where all goes well.  The
 * user-space TX time is taken just before; the kernel's replaces it per
 * datagram.  A datagram the kernel refuses is reported failed and the
 * rest are sent after it; OPT_ID keys are then unknown (tx_resync).
 */
static void flush_sock(struct probe_engine *e, struct probe_sock *k)
{
	struct probe_tx_batch *b = k->tx;
	uint32_t done = 0;

	while (done < b->n) {
		int64_t t;
		int n;

		if (k->tx_stamps && k->tx_resync)
			tx_resync(e, k);
		t = probe_real_ns();
		n = sendmmsg(k->fd, &b->msg[done], b->n - done, 0);
		for (int i = 0; i < n; i++, done++) {
			struct probe_slot *s = &e->slot[b->slot[done]];
			struct probe_pending *p =
				&s->pending[s->next_probe & (e->pending_n - 1)];

			p->tx_real_ns = t;
			if (k->tx_stamps) {
				k->txmap[k->tx_key % PROBE_TXMAP] =
					(struct probe_txmap_entry){
						k->tx_key, b->slot[done],
						p->probe, true
					};
				k->tx_key++;
			}
			probe_sent(e, b->slot[done], true);
		}
		if (done < b->n) { /* b->msg[done] was refused */
			k->tx_resync = true;
			probe_sent(e, b->slot[done++], false);
		}
	}
	b->n = 0;
}

/* Queue a datagram for p's probe (sent by probe_io_flush). */
static void queue_datagram(struct probe_engine *e, struct probe_sock *k,
			   struct probe_slot *s, const uint8_t *buf, size_t len,
			   uint16_t port)
{
	struct probe_tx_batch *b = k->tx;
	uint32_t i;

	if (b->n == PROBE_TX_BATCH)
		flush_sock(e, k);
	i = b->n++;
	b->slot[i] = (uint32_t)(s - e->slot);
	memcpy(b->buf[i], buf, len);
	b->iov[i].iov_base = b->buf[i];
	b->iov[i].iov_len = len;
	memset(&b->msg[i], 0, sizeof(b->msg[i]));
	b->msg[i].msg_hdr.msg_name = &b->to[i];
	b->msg[i].msg_hdr.msg_namelen =
		to_sockaddr(&e->targets[s->target].addr, port, &b->to[i]);
	b->msg[i].msg_hdr.msg_iov = &b->iov[i];
	b->msg[i].msg_hdr.msg_iovlen = 1;
}

static void send_icmp(struct probe_engine *e, struct probe_slot *s,
		      struct probe_pending *p, int64_t now_real)
{
	struct probe_icmp_echo echo = {
		.identifier = e->icmp_ident, /* the kernel's on datagram */
		.sequence = (uint16_t)p->probe,
		.nonce = e->nonce,
		.slot = (uint32_t)(s - e->slot),
		.probe = p->probe,
		.sent_ns = (uint64_t)now_real,
	};
	uint8_t buf[PROBE_ICMP_LEN];

	probe_icmp_build(buf, s->af, &echo);
	queue_datagram(e, &e->icmp[s->af == 6], s, buf, sizeof(buf), 0);
}

static void send_stamp(struct probe_engine *e, struct probe_slot *s,
		       struct probe_pending *p, int64_t now_real)
{
	uint8_t buf[STAMP_PACKET_LEN];

	p->cookie = stamp_ntp_from_ns((uint64_t)now_real);
	stamp_build(buf, p->probe, p->cookie);
	queue_datagram(e, &e->stamp[s->af == 6], s, buf, sizeof(buf),
		       (uint16_t)e->pc.stamp.port);
}

void probe_io_tcp_close(struct probe_engine *e, struct probe_pending *p)
{
	if (p->fd < 0)
		return;
	close(p->fd); /* SO_LINGER 0: an RST, no FIN handshake */
	p->fd = -1;
	e->tcp_open--;
}

/*
 * The outcome of a connect attempt that ended with error err (0 =
 * connected) after the kernel's own handshake timing, if any.
 */
static void tcp_outcome(struct probe_engine *e, struct probe_pending *p,
			int err)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	bool retransmitted = false;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(p->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
		retransmitted = ti.tcpi_total_retrans > 0;
	if (retransmitted) {
		/* the first SYN went unanswered: its RTT would be the
		 * retransmission's, so the probe counts as lost */
		p->state = PENDING_LOST;
	} else if (err == 0 || err == ECONNREFUSED) {
		p->state = PENDING_ANSWERED;
		p->refused = err == ECONNREFUSED;
		if (err == 0 && ti.tcpi_rtt > 0) {
			/* the SYN -> SYN/ACK sample, in us */
			p->rtt_ns = (int64_t)ti.tcpi_rtt * 1000;
			p->tx_kernel = p->rx_kernel = true;
		} else {
			p->rtt_ns =
				(int64_t)(probe_mono_ns() - p->sent_mono_ns);
		}
	} else {
		p->state = PENDING_LOST;
		p->unreachable = true;
	}
	probe_io_tcp_close(e, p);
}

static int send_tcp(struct probe_engine *e, struct probe_slot *s,
		    struct probe_pending *p)
{
	const struct ps_addr *to = &e->targets[s->target].addr;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLERR | EPOLLHUP };
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(to, (uint16_t)e->pc.tcp.port, &ss);
	int syn_retries = 1;

	p->fd = socket(s->af == 6 ? AF_INET6 : AF_INET,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1)
		return -1;
	e->tcp_open++;
	if (setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		goto fail;
	(void)setsockopt(p->fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries,
			 sizeof(syn_retries));
	p->sent_mono_ns = probe_mono_ns();
	p->tx_real_ns = probe_real_ns();
	if (connect(p->fd, (struct sockaddr *)&ss, sl) == 0) {
		tcp_outcome(e, p, 0);
		return 0;
	}
	if (errno == ECONNREFUSED) {
		tcp_outcome(e, p, ECONNREFUSED);
		return 0;
	}
	if (errno != EINPROGRESS)
		goto fail;
	ev.data.u64 =
		probe_tag(PROBE_TAG_TCP, p->probe, (uint32_t)(s - e->slot));
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, p->fd, &ev) == -1)
		goto fail;
	return 0;
fail:
	probe_io_tcp_close(e, p);
	return -1;
}

void probe_io_send(struct probe_engine *e, struct probe_slot *s,
		   struct probe_pending *p, int64_t now_real)
{
	switch ((enum probe_method)s->method) {
	case PROBE_ICMP:
		send_icmp(e, s, p, now_real);
		break;
	case PROBE_TCP:
		p->state = PENDING_WAITING;
		probe_sent(e, (uint32_t)(s - e->slot), send_tcp(e, s, p) == 0);
		break;
	case PROBE_STAMP:
		send_stamp(e, s, p, now_real);
		break;
	default:
		probe_sent(e, (uint32_t)(s - e->slot), false);
		break;
	}
}

void probe_io_flush(struct probe_engine *e)
{
	for (int i = 0; i < 2; i++) {
		if (e->icmp[i].tx != NULL && e->icmp[i].tx->n > 0)
			flush_sock(e, &e->icmp[i]);
		if (e->stamp[i].tx != NULL && e->stamp[i].tx->n > 0)
			flush_sock(e, &e->stamp[i]);
	}
}

void probe_io_tcp_event(struct probe_engine *e, uint32_t slot, uint32_t probe24)
{
	struct probe_slot *s;
	struct probe_pending *p;
	socklen_t el = sizeof(int);
	int err = 0;

	if (slot >= e->nslots)
		return;
	s = &e->slot[slot];
	/* the one probe in flight whose number ends in these 24 bits */
	p = probe_in_flight(e, s,
			    s->retired + ((probe24 - s->retired) & 0xffffff));
	if (p == NULL || p->fd < 0)
		return; /* timed out and closed meanwhile */
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
		err = errno;
	tcp_outcome(e, p, err);
	probe_retire(e, s);
}

/* ---- receiving ------------------------------------------------------ */

/* An answer for probe of slot s received at rx_real. */
static void answered(struct probe_engine *e, struct probe_slot *s,
		     uint32_t probe, int64_t rx_real, bool rx_kernel,
		     int64_t reflector_ns, uint64_t cookie)
{
	struct probe_pending *p = probe_in_flight(e, s, probe);

	if (p == NULL) {
		if (!probe_late(e, s, probe))
			e->c.unmatched++; /* a duplicate, or not ours */
		return;
	}
	if (s->method == PROBE_STAMP && p->cookie != cookie) {
		e->c.unmatched++;
		return;
	}
	p->rtt_ns = rx_real - p->tx_real_ns - reflector_ns;
	p->rx_kernel = rx_kernel;
	p->state = PENDING_ANSWERED;
	probe_retire(e, s);
}

static void got_icmp(struct probe_engine *e, struct probe_sock *k,
		     const uint8_t *buf, size_t len, const struct ps_addr *src,
		     int64_t rx_real, bool rx_kernel)
{
	struct probe_icmp_echo echo;
	enum probe_icmp_parse_err why;
	struct probe_slot *s;

	if (probe_icmp_parse(buf, len, k->af, k->ip_header, &echo, &why) ==
	    -1) {
		e->c.unmatched++;
		return;
	}
	/* a raw socket sees every echo reply of the host: not ours, not
	 * counted (another ping, another prober) */
	if (k->raw && echo.identifier != e->icmp_ident)
		return;
	if (echo.nonce != e->nonce)
		return;
	if (echo.slot >= e->nslots || e->slot[echo.slot].method != PROBE_ICMP ||
	    !addr_equal(&e->targets[e->slot[echo.slot].target].addr, src) ||
	    (echo.probe & 0xffff) != echo.sequence) {
		e->c.unmatched++;
		return;
	}
	s = &e->slot[echo.slot];
	answered(e, s, echo.probe, rx_real, rx_kernel, 0, 0);
}

static int cmp_addr(const struct ps_addr *a, const struct ps_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

static void got_stamp(struct probe_engine *e, const uint8_t *buf, size_t len,
		      const struct ps_addr *src, uint16_t port, int64_t rx_real,
		      bool rx_kernel)
{
	uint32_t lo = 0, hi = e->nstamp_by_addr;
	struct stamp_reply r;

	if (port != e->pc.stamp.port || stamp_parse(buf, len, &r) == -1) {
		e->c.unmatched++;
		return;
	}
	while (lo < hi) { /* the slot of the source address */
		uint32_t mid = lo + (hi - lo) / 2;
		int c = cmp_addr(&e->stamp_by_addr[mid].addr, src);

		if (c == 0) {
			answered(e, &e->slot[e->stamp_by_addr[mid].slot],
				 r.sender_sequence, rx_real, rx_kernel,
				 stamp_ntp_diff_ns(r.t3, r.t2), r.t1);
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	e->c.unmatched++;
}

/* The kernel RX timestamp and drop count of one received message. */
static int64_t rx_meta(struct probe_engine *e, struct probe_sock *k,
		       struct msghdr *m)
{
	int64_t ts = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL;
	     c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_TIMESTAMPING) {
			struct scm_timestamping t;

			memcpy(&t, CMSG_DATA(c), sizeof(t));
			ts = (int64_t)t.ts[0].tv_sec * 1000000000LL +
			     t.ts[0].tv_nsec;
		} else if (c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t drops;

			memcpy(&drops, CMSG_DATA(c), sizeof(drops));
			e->c.rx_overflow += drops - k->rx_drops;
			k->rx_drops = drops;
		}
	}
	return ts;
}

/* Everything k holds: TX timestamps first, then replies.  Messages read. */
static int sock_read(struct probe_engine *e, struct probe_sock *k)
{
	struct probe_rx *rx = e->rx;
	int total = 0;

	if (k->tx_stamps)
		read_errqueue(e, k);
	for (int round = 0; round < PROBE_RX_ROUNDS; round++) {
		int64_t user_rx;
		int n;

		for (int i = 0; i < PROBE_RX_BATCH; i++) {
			struct msghdr *m = &rx->msg[i].msg_hdr;

			memset(m, 0, sizeof(*m));
			m->msg_name = &rx->from[i];
			m->msg_namelen = sizeof(rx->from[i]);
			m->msg_iov = &rx->iov[i];
			m->msg_iovlen = 1;
			m->msg_control = rx->control[i].b;
			m->msg_controllen = sizeof(rx->control[i].b);
		}
		n = recvmmsg(k->fd, rx->msg, PROBE_RX_BATCH, MSG_DONTWAIT,
			     NULL);
		if (n <= 0)
			return total;
		total += n;
		user_rx = probe_real_ns();
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &rx->msg[i].msg_hdr;
			int64_t kernel = rx_meta(e, k, m);
			struct ps_addr src;
			uint16_t port;

			if (from_sockaddr(&rx->from[i], &src, &port) == -1 ||
			    (m->msg_flags & MSG_TRUNC)) {
				e->c.unmatched++;
				continue;
			}
			if (k->method == PROBE_ICMP)
				got_icmp(e, k, rx->buf[i], rx->msg[i].msg_len,
					 &src, kernel ? kernel : user_rx,
					 kernel != 0);
			else
				got_stamp(e, rx->buf[i], rx->msg[i].msg_len,
					  &src, port, kernel ? kernel : user_rx,
					  kernel != 0);
		}
		if (n < PROBE_RX_BATCH)
			return total;
	}
	return total;
}

void probe_io_sock_event(struct probe_engine *e, struct probe_sock *k,
			 uint64_t now_mono)
{
	sock_read(e, k);
	if (k->rx_stamps) /* one-shot: muted until the pause is over */
		k->rearm_ns = now_mono + PROBE_RX_COALESCE_NS;
}

static void sock_rearm_due(struct probe_engine *e, struct probe_sock *k,
			   uint64_t now_mono)
{
	if (k->fd < 0 || k->rearm_ns == 0 || k->rearm_ns > now_mono)
		return;
	if (sock_read(e, k) > 0) { /* busy: stay muted, read again later */
		k->rearm_ns = now_mono + PROBE_RX_COALESCE_NS;
		return;
	}
	k->rearm_ns = 0;
	if (sock_arm(e, k, EPOLL_CTL_MOD) == -1)
		k->rearm_ns = now_mono + PROBE_RX_COALESCE_NS; /* poll */
}

void probe_io_rearm_due(struct probe_engine *e, uint64_t now_mono)
{
	for (int i = 0; i < 2; i++) {
		sock_rearm_due(e, &e->icmp[i], now_mono);
		sock_rearm_due(e, &e->stamp[i], now_mono);
	}
}

uint64_t probe_io_next_rearm(const struct probe_engine *e)
{
	uint64_t t = UINT64_MAX;

	for (int i = 0; i < 2; i++) {
		const struct probe_sock *k[2] = { &e->icmp[i], &e->stamp[i] };

		for (int j = 0; j < 2; j++)
			if (k[j]->fd >= 0 && k[j]->rearm_ns != 0 &&
			    k[j]->rearm_ns < t)
				t = k[j]->rearm_ns;
	}
	return t;
}

void probe_io_read_method(struct probe_engine *e, enum probe_method m,
			  uint64_t now_mono)
{
	struct probe_sock *k = m == PROBE_ICMP ? e->icmp : e->stamp;

	if (m == PROBE_TCP)
		return;
	for (int i = 0; i < 2; i++)
		if (k[i].fd >= 0 && k[i].rearm_ns != 0 &&
		    sock_read(e, &k[i]) > 0)
			k[i].rearm_ns = now_mono + PROBE_RX_COALESCE_NS;
}

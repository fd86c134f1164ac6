/*
 * udp.h - live UDP receive: one SO_REUSEPORT socket per worker and
 * listener, recvmmsg batches, kernel drop counting with SO_RXQ_OVFL.
 *
 * Every worker binds its own socket to the same address and port; the
 * kernel spreads exporters over them by flow hash, so one exporter always
 * lands on one worker and its sequence and counter state stay local.
 */
#ifndef PEERSCOPE_UDP_H
#define PEERSCOPE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/config.h"

struct netaddr_allow;
struct rx_datagram;
struct worker;

struct udp_rx {
	int fd;
	enum ps_proto proto;
	uint16_t port;
	uint32_t batch;
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *addrs;
	uint8_t *bufs;	     /* batch * PS_MAX_DATAGRAM */
	uint8_t *ctrl;	     /* batch * UDP_CTRL_LEN */
	uint32_t ovfl_seen;  /* newest kernel drop count (sk_drops) read */
	uint32_t ovfl_taken; /* the count when drops were last taken */
	int rcvbuf_actual;   /* what the kernel granted */
};

/* Open, bind and configure one socket. */
int udp_rx_open(struct udp_rx *rx, const struct ps_listen *l, uint32_t rcvbuf,
		uint32_t batch, char *err, size_t errlen);
void udp_rx_close_all(struct udp_rx *rx, unsigned n);

/* @thread worker.  Wait up to timeout_ms for any socket to be readable. */
void udp_rx_poll(struct udp_rx *rx, unsigned n, int timeout_ms);

/* Receive batches a worker takes from one socket in a row, before giving
 * the other sockets a turn. */
#define UDP_MAX_BATCHES_PER_DRAIN 16

/*
 * @thread worker.  One recvmmsg() of up to rx->batch datagrams into the
 * socket's buffers, without waiting: how many arrived (0: none).  The
 * worker takes each with udp_rx_datagram() before the next call.
 */
uint32_t udp_rx_recv(struct udp_rx *rx);

/*
 * @thread worker.  Datagram i of the last udp_rx_recv(), received at
 * now_ns: its kernel drop count is noted (SO_RXQ_OVFL), and *d filled
 * unless its source is outside `allow` (false: refused, *d not usable).
 * d->data points into the socket's buffers until the next udp_rx_recv().
 */
bool udp_rx_datagram(struct udp_rx *rx, uint32_t i,
		     const struct netaddr_allow *allow, uint64_t now_ns,
		     struct rx_datagram *d);

/* @thread worker.  Kernel drops since the last call, over all sockets. */
uint64_t udp_rx_take_drops(struct udp_rx *rx, unsigned n);

/*
 * @thread main, start-up (sockholder.h).  Whether another socket, not one
 * of the workers', would receive datagrams of a listener: before any
 * worker binds (bound false: any socket counts), and once they all have
 * (bound true: theirs are left out, so two instances starting together
 * see each other).  0, or -1 with "address in use (held by PID N)" in
 * err.  When the kernel cannot be asked, logs why and says 0.
 */
struct logger;
int udp_listeners_exclusive(const struct ps_config *cfg,
			    const struct worker *workers, unsigned nworkers,
			    bool bound, struct logger *log, char *err,
			    size_t errlen);

/* @thread main.  One `listening` event per UDP listener. */
void udp_listeners_log(const struct ps_config *cfg, unsigned nworkers,
		       struct logger *log);

#endif /* PEERSCOPE_UDP_H */

/*
 * probe_int.h - the probe engine's insides, shared by probe.c (lifecycle,
 * the loop, scheduling, windows) and probe_io.c (sockets, per method).
 *
 * A slot is one (target, method).  Its probes are numbered from 0; the
 * ones in flight live in a ring of pending entries indexed by probe
 * number, and are retired (counted into their window) strictly in send
 * order once decided, so jitter pairs consecutive probes and a window is
 * complete when its last probe has timed out.  Timeouts are a FIFO per
 * method: one timeout per method and sends in time order make deadlines
 * ordered too.
 *
 * @thread probe, except where a function says otherwise.
 */
#ifndef PEERSCOPE_PROBE_INT_H
#define PEERSCOPE_PROBE_INT_H

#include <pthread.h>
#include <sys/socket.h>

#include "peerscope/limits.h"
#include "probe/probe_sched.h"
#include "probe/probe_types.h"

#define PROBE_OPEN_WINDOWS 2	/* the current one and the one closing */
#define PROBE_RX_BATCH	   64	/* recvmmsg batch */
#define PROBE_TX_BATCH	   64	/* sendmmsg batch per socket */
#define PROBE_TX_MAX	   64	/* bytes of a probe datagram */
#define PROBE_RX_ROUNDS	   16	/* batches per socket event (fairness) */
#define PROBE_EPOLL_BATCH  64
#define PROBE_RCVBUF	   (4 << 20)
/*
 * A socket whose replies carry kernel RX timestamps is read at most this
 * often (EPOLLONESHOT, re-armed after the pause): when a reply is read
 * does not change its RTT, and at 10,000 replies a second this turns
 * 10,000 wake-ups into 200.
 */
#define PROBE_RX_COALESCE_NS (5 * 1000 * 1000ULL)

enum probe_pending_state {
	PENDING_FREE,
	PENDING_WAITING,
	PENDING_ANSWERED,
	PENDING_LOST,
};

struct probe_pending {
	uint32_t probe; /* its number in the slot */
	uint8_t state;	/* enum probe_pending_state */
	bool tx_kernel; /* tx_real_ns is the kernel's TX timestamp */
	bool rx_kernel; /* the RTT ends on the kernel's RX timestamp */
	bool refused;	/* TCP: RST */
	bool unreachable;
	int fd; /* TCP: the connecting socket; -1 */
	uint64_t sent_mono_ns;
	int64_t tx_real_ns; /* wall clock at send (user, then kernel) */
	uint64_t window_start_ns;
	uint64_t cookie; /* STAMP: T1 as sent */
	int64_t rtt_ns;	 /* when answered */
};

struct probe_slot {
	uint32_t target;
	uint8_t method;	     /* enum probe_method */
	uint8_t af;	     /* 4, 6 */
	uint32_t next_probe; /* probes sent */
	uint32_t retired;    /* probes decided and counted, in order */
	uint64_t nominal_ns; /* nominal time of the next send */
	int64_t last_rtt_ns; /* -1 until the first answer (jitter) */
	struct probe_pending *pending; /* pending_n entries */
};

/* Which send an OPT_ID key of a socket's TX timestamp belongs to. */
struct probe_txmap_entry {
	uint32_t key, slot, probe;
	bool used;
};

/* Datagrams queued on a socket, sent together (sendmmsg). */
struct probe_tx_batch {
	uint32_t n;
	uint32_t slot[PROBE_TX_BATCH];
	uint8_t buf[PROBE_TX_BATCH][PROBE_TX_MAX];
	struct sockaddr_storage to[PROBE_TX_BATCH];
	struct iovec iov[PROBE_TX_BATCH];
	struct mmsghdr msg[PROBE_TX_BATCH];
};

struct probe_sock {
	int fd; /* -1: not open */
	int af; /* 4, 6 */
	uint8_t method;
	bool raw;	   /* ICMP raw socket: we pick the identifier */
	bool ip_header;	   /* raw IPv4: replies start with the IP header */
	bool tx_stamps;	   /* SO_TIMESTAMPING TX + OPT_ID is on */
	bool rx_stamps;	   /* SO_TIMESTAMPING RX is on */
	bool tx_resync;	   /* a send failed: keys unknown until reset */
	uint32_t tx_key;   /* OPT_ID the next send gets */
	uint32_t rx_drops; /* SO_RXQ_OVFL as last seen */
	uint32_t index;	   /* in the epoll tag: 0-1 icmp, 2-3 stamp */
	uint64_t rearm_ns; /* muted until then (monotonic); 0 = armed */
	struct probe_txmap_entry *txmap; /* PROBE_TXMAP */
	struct probe_tx_batch *tx;	 /* sends waiting for a flush */
};

struct probe_timeout {
	uint32_t slot, probe;
	uint64_t deadline_ns;
};

struct probe_timeouts {
	struct probe_timeout *q;
	uint32_t head, len, cap;
	uint64_t timeout_ns;
};

struct probe_open_window {
	bool used;
	uint64_t start_ns;
	struct probe_result *acc; /* one per slot */
};

/* STAMP replies are told apart by their source address. */
struct probe_addr_slot {
	struct ps_addr addr;
	uint32_t slot;
};

struct probe_engine {
	struct ps_probe_config pc;
	uint64_t window_ns, interval_ns, grace_ns, max_timeout_ns;
	struct probe_target *targets;
	uint32_t ntargets;
	struct probe_slot *slot;
	uint32_t nslots;
	struct probe_pending *pending; /* nslots * pending_n */
	uint32_t pending_n;	       /* a power of two */
	struct probe_sched sched;
	struct probe_timeouts to[PROBE_METHOD_COUNT];
	struct probe_sock icmp[2], stamp[2]; /* [0] IPv4, [1] IPv6 */
	enum ps_probe_icmp_socket icmp_kind;
	struct probe_addr_slot *stamp_by_addr; /* sorted */
	uint32_t nstamp_by_addr;
	struct probe_open_window win[PROBE_OPEN_WINDOWS];
	struct probe_counters c;
	struct sketch_limits rtt_limits;
	uint64_t nonce;
	uint16_t icmp_ident; /* raw sockets; the kernel's on datagram ones */
	uint32_t tcp_open, tcp_cap;
	int epfd, stopfd;
	struct ring *out;
	struct probe_rx *rx; /* receive buffers (probe_io.c) */
	pthread_t thread;
	bool started;	      /* @thread owner */
	bool draining;	      /* stop asked: no more sends */
	int64_t stop_real_ns; /* when (wall clock) */
};

/* epoll data: what an event is about. */
enum probe_tag_kind { PROBE_TAG_STOP = 1, PROBE_TAG_SOCK, PROBE_TAG_TCP };

static inline uint64_t probe_tag(enum probe_tag_kind kind, uint32_t hi24,
				 uint32_t lo32)
{
	return (uint64_t)kind << 56 | (uint64_t)(hi24 & 0xffffff) << 32 | lo32;
}

/* Clocks: scheduling on CLOCK_MONOTONIC, RTTs on the wall clock that
 * kernel timestamps use. */
uint64_t probe_mono_ns(void);
int64_t probe_real_ns(void);

/* probe.c, for probe_io.c */
/* The pending entry of a probe still waiting for its answer, or NULL. */
struct probe_pending *probe_in_flight(struct probe_engine *e,
				      struct probe_slot *s, uint32_t probe);
/* Count s's decided probes into their windows, oldest first, up to the
 * first still waiting (after any probe of s was decided). */
void probe_retire(struct probe_engine *e, struct probe_slot *s);
/*
 * The send of slot's next probe (its pending entry filled) went out (ok)
 * or failed: count it, arm its timeout.
 */
void probe_sent(struct probe_engine *e, uint32_t slot, bool ok);
/* A reply for a probe no longer in flight: true (counted late) when it
 * had been given up as lost, false for a duplicate or a stranger. */
bool probe_late(struct probe_engine *e, struct probe_slot *s, uint32_t probe);

/* probe_io.c */
struct probe_rx;
int probe_io_open(struct probe_engine *e, char *err, size_t errlen);
void probe_io_close(struct probe_engine *e);
/*
 * Send p's probe (p filled but for the TX time): TCP at once, datagrams
 * queued for probe_io_flush(); either way probe_sent() reports it.
 */
void probe_io_send(struct probe_engine *e, struct probe_slot *s,
		   struct probe_pending *p, int64_t now_real_ns);
/* Send every queued datagram. */
void probe_io_flush(struct probe_engine *e);
void probe_io_sock_event(struct probe_engine *e, struct probe_sock *k,
			 uint64_t now_mono);
/* Read the muted sockets whose pause is over; re-arm the quiet ones. */
void probe_io_rearm_due(struct probe_engine *e, uint64_t now_mono);
/* When the next pause ends; UINT64_MAX if none. */
uint64_t probe_io_next_rearm(const struct probe_engine *e);
/* Read what method m's sockets hold now (before timeouts are decided). */
void probe_io_read_method(struct probe_engine *e, enum probe_method m,
			  uint64_t now_mono);
void probe_io_tcp_event(struct probe_engine *e, uint32_t slot,
			uint32_t probe24);
/* A TCP probe given up (timeout, stop): its socket closed. */
void probe_io_tcp_close(struct probe_engine *e, struct probe_pending *p);

#endif /* PEERSCOPE_PROBE_INT_H */

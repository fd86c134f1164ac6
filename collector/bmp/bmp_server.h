/*
 * bmp_server.h - the live BMP station: one TCP listener (bmp.listen), one
 * epoll thread for every router session.
 *
 * Each accepted router gets a bmp_router (bmp_session.h): its reassembly
 * buffer is bounded by bmp.max_buffer_bytes, its peers and routes by the
 * bmp.max_* caps.  Connections from addresses outside bmp.allow, and past
 * bmp.max_routers, are closed at once and counted.  The station never
 * writes to a router.
 *
 * Fairness: epoll is level-triggered and each ready router gets one read
 * of at most BMP_SERVER_READ bytes per round, so a router sending a flood
 * cannot starve the others.
 *
 * Backpressure, per router: every bgp_session or route message a router
 * causes goes to the merger's ring (bmp_pub.h) if nothing of that router
 * is waiting and there is room; otherwise to that router's queue (FIFO,
 * so its messages keep their order).  A router whose queue holds
 * bmp.max_queue_bytes is paused: its socket leaves the epoll set and its
 * unread bytes stay in the kernel, whose full receive buffer makes TCP
 * flow control slow that router alone.  The others keep being read,
 * decoded and published.  While anything waits, the loop moves queued
 * messages into the ring one per router per turn (so one long backlog
 * cannot hold back another router's few messages), waking every 1 ms,
 * backing off to 64 ms while the merger takes nothing; a paused router
 * resumes when its queue is down to half.  Nothing is dropped.  A router
 * with a queue reads BMP_SERVER_READ_QUEUED bytes at a time, so its queue
 * overshoots the cap by at most what the messages one such read completes
 * cause (the first read that fills it: one BMP_SERVER_READ's).  The
 * messages of an ended session wait in `leftover`; while that holds more
 * than bmp.max_queue_bytes no new router is accepted (they wait in the
 * listen backlog).  Pauses and paused time are counted per router
 * (bmp_gauge.h, /metrics) and logged, rate-limited.
 *
 * Slow, stuck or hostile connections: a session that sends nothing for
 * bmp.idle_timeout_seconds (an hour: BMP routers may be quiet) is closed;
 * one that has not completed a whole message since it connected, or
 * leaves one incomplete (a slowloris trickling a header), for
 * bmp.message_timeout_seconds (seconds) is closed; both counted, and a
 * paused router is neither.  A connection from an address that already
 * has bmp.max_sessions_per_address sessions is refused.  With every slot
 * taken (bmp.max_routers), a new connection closes the oldest session
 * that has not completed a message yet (bmp.server.evicted), so silent
 * connections cannot keep a router out; only when every session has
 * spoken is it refused.  Every reason, open sessions' included, reaches
 * /metrics within 100 ms (bmp_gauge.h); the loop wakes that often.
 * Per router memory: the reassembly buffer (bmp.max_buffer_bytes),
 * the queue (bmp.max_queue_bytes, plus one small read's worth) and the
 * routes (bmp.max_routes_*).
 *
 * @thread bmp_server_start/stop: the main thread; the rest runs on the
 *         BMP thread, which owns every session, the session tables and
 *         the RIB writer side.
 */
#ifndef PEERSCOPE_BMP_SERVER_H
#define PEERSCOPE_BMP_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/json.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "bmp/bmp_pub.h"
#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"

#define BMP_SERVER_READ      65536
#define BMP_SERVER_READ_QUEUED 4096 /* a read while messages wait */
#define BMP_SERVER_FLUSH_MAX_MS 64  /* longest wait while messages wait */

struct bmp_conn;
struct logger;

/* Messages waiting for room in the ring, oldest first. */
struct bmp_queue {
	struct bmp_pub_item *head, *tail;
	uint64_t n, bytes;
};

struct bmp_server {
	const struct ps_config *cfg;
	struct bmp_pub *pub;
	int lfd, epfd, wakefd;
	uint16_t port; /* bound port (bmp.listen may say 0) */
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	struct netaddr_allow allow; /* bmp.allow */
	struct bmp_conn **conns;
	unsigned nconns;
	struct jbuf json;
	uint8_t *rbuf;
	/* the server's reasons and ended sessions' (folded at close); open
	 * sessions count in their own until then (gauges_publish sums) */
	struct dec_stats st;
	uint64_t accepted, closed;
	uint64_t last_snapshot_ns;
	struct rib_registry *rib; /* where routes are published, or NULL */
	uint64_t last_rib_ns;
	uint64_t rib_interval_ns; /* between rebuilds (rib_publish_due) */
	bool rib_dirty;           /* a Peer Down dropped routes */
	bool gauges_dirty;	  /* /metrics gauges may have changed */
	bool gauges_closed;	  /* a session ended: publish now */
	/* backpressure (see above) */
	struct bmp_conn *current;    /* whose messages are being made */
	struct bmp_queue leftover;   /* messages of ended sessions */
	uint64_t queued, queued_bytes; /* waiting, all queues */
	unsigned flush_next;	     /* round-robin start */
	int flush_wait_ms;
	unsigned npaused;
	bool accept_paused;
	uint64_t pauses_ended, paused_ns_ended; /* of closed sessions */
	struct logger *log;	     /* set after bind by the owner; NULL = none */
	struct log_limit limit;
};

/* Bind and start the thread.  0, or -1 with err. */
int bmp_server_start(struct bmp_server *s, const struct ps_config *cfg,
		     struct bmp_pub *pub, char *err, size_t errlen);

/*
 * The same in two steps, so that the socket is bound while privileges are
 * held and the thread starts after they are dropped (live.c): bind, then
 * run.  After a failed bind, bmp_server_stop() frees what was made.
 */
int bmp_server_bind(struct bmp_server *s, const struct ps_config *cfg,
		    struct bmp_pub *pub, char *err, size_t errlen);
int bmp_server_run(struct bmp_server *s, char *err, size_t errlen);

/*
 * Stop the thread: every session ends as if its router closed it (peers
 * become "unknown", published), then the counters are final in s->st.
 */
void bmp_server_stop(struct bmp_server *s);

#endif /* PEERSCOPE_BMP_SERVER_H */

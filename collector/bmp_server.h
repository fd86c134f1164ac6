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
 * Fairness and slow readers: epoll is level-triggered and each ready
 * router gets one read of at most BMP_SERVER_READ bytes per round, so a
 * router sending a flood cannot starve the others, and a slowloris one
 * costs only its bounded buffer.  Backpressure: when the merger falls
 * behind, bmp_pub_push waits; the thread then reads nobody, the kernel's
 * receive buffers fill, and TCP flow control slows the routers.  Nothing
 * is dropped; the waits are counted (bmp.server.publish_waits).
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

#include "bmp_pub.h"
#include "config.h"
#include "json.h"
#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"

#define BMP_SERVER_READ      65536
#define BMP_SERVER_MAX_ALLOW 64

struct bmp_conn;

struct bmp_server {
	const struct ps_config *cfg;
	struct bmp_pub *pub;
	int lfd, epfd, wakefd;
	uint16_t port; /* bound port (bmp.listen may say 0) */
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	struct ps_addr allow[BMP_SERVER_MAX_ALLOW];
	unsigned nallow;
	struct bmp_conn **conns;
	unsigned nconns;
	struct jbuf json;
	uint8_t *rbuf;
	struct dec_stats st; /* sessions' reasons, folded when they end */
	uint64_t accepted, closed;
	uint64_t last_snapshot_ns;
	struct rib_registry *rib; /* where routes are published, or NULL */
	uint64_t last_rib_ns;
	bool rib_dirty;           /* a Peer Down dropped routes */
	bool gauges_dirty;	  /* /metrics gauges may have changed */
	bool gauges_closed;	  /* a session ended: publish now */
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

/*
 * test_handshake.c - the tcp_handshake table (ingest/handshake.h) pairs
 * SYN -> SYN/ACK -> ACK by 4-tuple as the TCP handshake defines it
 * (RFC 9293 section 3.5): the SYN/ACK answers from the server's side,
 * the ACK follows from the client's.  The cases a filter in front of the
 * table could break: thousands of handshakes waiting at once (bits
 * shared), pairing across a rebuild as windows close, a table emptied
 * and filled again, and a plain ACK of a flow never seen.  Each sample
 * is taken at an exact time (no interval), so every half is timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/handshake.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define MS	1000000ULL
#define TIMEOUT (3000 * MS)

static const uint32_t no_if[2] = { 0, 0 };
/* no interface is a connection: the halves land nowhere, only the
 * outcome tells */
static const bool no_conn[2] = { false, false };

static struct ps_addr router(void)
{
	struct ps_addr r;

	memset(&r, 0, sizeof(r));
	r.af = 4;
	r.bytes[0] = 192;
	r.bytes[1] = 0;
	r.bytes[2] = 2;
	r.bytes[3] = 1;
	return r;
}

/* Client n's address (IPv4 or IPv6 by n's parity) and port. */
static void client_of(uint32_t n, struct pkt_ip *ip, bool to_server)
{
	uint8_t client[16] = { 0 }, server[16] = { 0 };
	uint16_t cport = (uint16_t)(1024 + n % 60000), sport = 443;

	if (n % 2 == 0) {
		ip->version = 4;
		client[0] = 198;
		client[1] = 51;
		client[2] = (uint8_t)(n >> 8);
		client[3] = (uint8_t)n;
		server[0] = 203;
		server[1] = 0;
		server[2] = 113;
		server[3] = 7;
	} else {
		ip->version = 6;
		client[0] = 0x20;
		client[1] = 0x01;
		client[2] = 0x0d;
		client[3] = 0xb8;
		client[14] = (uint8_t)(n >> 8);
		client[15] = (uint8_t)n;
		server[0] = 0x20;
		server[1] = 0x01;
		server[2] = 0x0d;
		server[3] = 0xb8;
		server[15] = 7;
	}
	memcpy(to_server ? ip->src : ip->dst, client, 16);
	memcpy(to_server ? ip->dst : ip->src, server, 16);
	ip->src_port = to_server ? cport : sport;
	ip->dst_port = to_server ? sport : cport;
}

/* Client n's packet with flags `fl`, taken at t_ns in datagram `dg`. */
static enum hs_outcome packet(struct hs_table *h, uint32_t n, uint8_t fl,
			      uint64_t t_ns, uint64_t dg)
{
	struct ps_addr r = router();
	struct pkt_ip ip;
	struct hs_when when = { .lo_ns = t_ns, .hi_ns = t_ns, .datagram = dg };
	bool to_server = (fl & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK);

	memset(&ip, 0, sizeof(ip));
	ip.protocol = 6;
	ip.has_ports = true;
	ip.tcp_flags = fl;
	client_of(n, &ip, to_server);
	return hs_packet(h, NULL, &r, &ip, no_if, no_conn, &when);
}

static void table_init(struct hs_table *h)
{
	assert_int_equal(hs_table_init(h, 65536, TIMEOUT, 60000 * MS), 0);
}

/* An ACK (data) of a flow whose SYN was never sampled completes nothing. */
static void test_plain_ack_of_unknown_flow(void **state)
{
	struct hs_table h;

	(void)state;
	table_init(&h);
	assert_int_equal(packet(&h, 1, TCP_ACK, 1000 * MS, 1), HS_NO_HALF);
	assert_int_equal(packet(&h, 1, TCP_SYN | TCP_ACK, 1001 * MS, 2),
			 HS_NO_HALF);
	hs_table_fini(&h);
}

/*
 * 5,000 handshakes open at once, a window closing between the SYNs and
 * the rest (the filter rebuilt from the table): every SYN/ACK and every
 * ACK completes its half, and a second ACK of a done handshake is data.
 */
static void test_many_waiting_across_a_rebuild(void **state)
{
	enum { N = 5000 };
	struct hs_table h;
	uint64_t dg = 1;
	uint64_t t0 = 10000 * MS;

	(void)state;
	table_init(&h);
	for (uint32_t n = 0; n < N; n++)
		assert_int_equal(packet(&h, n, TCP_SYN, t0, dg++), HS_NO_HALF);
	hs_table_expire(&h, t0 + 5 * MS);
	for (uint32_t n = 0; n < N; n++)
		assert_int_equal(packet(&h, n, TCP_SYN | TCP_ACK, t0 + 10 * MS,
					dg++),
				 HS_TIMED);
	hs_table_expire(&h, t0 + 15 * MS);
	for (uint32_t n = 0; n < N; n++)
		assert_int_equal(packet(&h, n, TCP_ACK, t0 + 20 * MS, dg++),
				 HS_TIMED);
	for (uint32_t n = 0; n < N; n++)
		assert_int_equal(packet(&h, n, TCP_ACK, t0 + 30 * MS, dg++),
				 HS_NO_HALF);
	hs_table_fini(&h);
}

/* The table emptied (every handshake done) takes new ones as before. */
static void test_emptied_table_pairs_again(void **state)
{
	struct hs_table h;
	uint64_t t = 20000 * MS;

	(void)state;
	table_init(&h);
	for (int round = 0; round < 3; round++, t += 100 * MS) {
		assert_int_equal(packet(&h, 7, TCP_SYN, t, 1 + 3 * round),
				 HS_NO_HALF);
		assert_int_equal(packet(&h, 7, TCP_SYN | TCP_ACK, t + 10 * MS,
					2 + 3 * round),
				 HS_TIMED);
		assert_int_equal(packet(&h, 7, TCP_ACK, t + 20 * MS,
					3 + 3 * round),
				 HS_TIMED);
	}
	hs_table_fini(&h);
}

/* A SYN older than the timeout is gone with the window that drops it. */
static void test_expired_syn_pairs_nothing(void **state)
{
	struct hs_table h;
	uint64_t t = 30000 * MS;

	(void)state;
	table_init(&h);
	assert_int_equal(packet(&h, 3, TCP_SYN, t, 1), HS_NO_HALF);
	hs_table_expire(&h, t + TIMEOUT + 1 * MS);
	assert_int_equal(packet(&h, 3, TCP_SYN | TCP_ACK,
				t + TIMEOUT + 2 * MS, 2),
			 HS_NO_HALF);
	hs_table_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ack_of_unknown_flow),
		cmocka_unit_test(test_many_waiting_across_a_rebuild),
		cmocka_unit_test(test_emptied_table_pairs_again),
		cmocka_unit_test(test_expired_syn_pairs_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

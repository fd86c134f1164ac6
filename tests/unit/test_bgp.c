/*
 * test_bgp.c - decoders/bgp.c from hand-built byte vectors.
 *
 * Every vector is written field by field from RFC 4271 §4, RFC 4760,
 * RFC 6793, RFC 7911, RFC 8277, RFC 4364, RFC 9072, and every expected
 * value below is the one written into the vector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"

#include "peerscope/bgp.h"

/* BGP header with a length placeholder; bgp_end() fills it. */
static void bgp_begin(struct buf *b, unsigned type)
{
	b->n = 0;
	for (int i = 0; i < 16; i++)
		p8(b, 0xff);
	p16(b, 0);
	p8(b, type);
}

static void bgp_end(struct buf *b)
{
	b->b[16] = (uint8_t)(b->n >> 8);
	b->b[17] = (uint8_t)b->n;
}

/* attribute with a 1-byte length */
static void attr(struct buf *b, unsigned flags, unsigned type, const void *v,
		 size_t n)
{
	p8(b, flags);
	p8(b, type);
	p8(b, (unsigned)n);
	pbytes(b, v, n);
}

static struct dec_stats st;

static int setup(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	return 0;
}

/* UPDATE: withdrawn block, attribute block, NLRI, in one go */
static void update(struct buf *b, const struct buf *wd, const struct buf *at,
		   const void *nlri, size_t nlen)
{
	bgp_begin(b, BGP_UPDATE);
	p16(b, (unsigned)wd->n);
	pbytes(b, wd->b, wd->n);
	p16(b, (unsigned)at->n);
	pbytes(b, at->b, at->n);
	pbytes(b, nlri, nlen);
	bgp_end(b);
}

static int decode(const struct buf *b, bool as2, struct bgp_update *u)
{
	struct bgp_update_ctx ctx = { .as2 = as2 };
	struct cur c;

	cur_init(&c, b->b, b->n);
	return bgp_update_decode(&c, &ctx, u, &st);
}

static void open_msg(struct buf *b, unsigned my_as, const struct buf *caps)
{
	bgp_begin(b, BGP_OPEN);
	p8(b, 4);          /* version */
	p16(b, my_as);
	p16(b, 90);        /* hold time */
	p32(b, 0xc0000202); /* 192.0.2.2 */
	p8(b, (unsigned)caps->n + 2);
	p8(b, 2);          /* capabilities parameter */
	p8(b, (unsigned)caps->n);
	pbytes(b, caps->b, caps->n);
	bgp_end(b);
}

static void test_open_capabilities(void **state)
{
	struct buf caps = { .n = 0 }, b;
	struct bgp_open o;
	struct cur c;

	(void)state;
	p8(&caps, 1); p8(&caps, 4); p16(&caps, 1); p8(&caps, 0); p8(&caps, 1);
	p8(&caps, 1); p8(&caps, 4); p16(&caps, 2); p8(&caps, 0); p8(&caps, 1);
	p8(&caps, 65); p8(&caps, 4); p32(&caps, 4200000002u);
	/* ADD-PATH: IPv4 unicast send (2), IPv6 unicast both (3) */
	p8(&caps, 69); p8(&caps, 8);
	p16(&caps, 1); p8(&caps, 1); p8(&caps, 2);
	p16(&caps, 2); p8(&caps, 1); p8(&caps, 3);
	open_msg(&b, 23456, &caps);
	cur_init(&c, b.b, b.n);
	assert_int_equal(bgp_open_decode(&c, &o, &st), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, 23456);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(o.bgp_id, 0xc0000202);
	assert_true(o.has_as4);
	assert_int_equal(bgp_open_asn(&o), 4200000002u);
	assert_int_equal(o.mp_mask, 3);
	assert_int_equal(o.addpath[bgp_afs_index(1, 1)], BGP_ADDPATH_SEND);
	assert_int_equal(o.addpath[bgp_afs_index(2, 1)], 3);
	assert_int_equal(o.ncaps, 4);
}

/* RFC 7911: path ids flow sender -> receiver only if both agree. */
static void test_addpath_asymmetric(void **state)
{
	struct bgp_open a, bo;
	int v4 = bgp_afs_index(1, 1), v6 = bgp_afs_index(2, 1);

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&bo, 0, sizeof(bo));
	a.addpath[v4] = BGP_ADDPATH_SEND;     /* peer can send v4 */
	bo.addpath[v4] = BGP_ADDPATH_RECEIVE; /* router can receive v4 */
	a.addpath[v6] = BGP_ADDPATH_RECEIVE;  /* nobody sends v6 */
	bo.addpath[v6] = BGP_ADDPATH_RECEIVE;
	assert_true(bgp_addpath_negotiated(&a, &bo, v4));
	assert_false(bgp_addpath_negotiated(&bo, &a, v4));
	assert_false(bgp_addpath_negotiated(&a, &bo, v6));
	assert_false(bgp_addpath_negotiated(&a, &bo, -1));
}

/* RFC 9072: optional parameters length 255, type 255, 2-byte lengths. */
static void test_open_extended_params(void **state)
{
	struct buf b;
	struct bgp_open o;
	struct cur c;

	(void)state;
	bgp_begin(&b, BGP_OPEN);
	p8(&b, 4); p16(&b, 65001); p16(&b, 180); p32(&b, 0x0a000001);
	p8(&b, 255); p8(&b, 255); p16(&b, 9); /* 3 + 6 bytes follow */
	p8(&b, 2); p16(&b, 6);                /* capabilities, 2-byte len */
	p8(&b, 65); p8(&b, 4); p32(&b, 65001);
	bgp_end(&b);
	cur_init(&c, b.b, b.n);
	assert_int_equal(bgp_open_decode(&c, &o, &st), 0);
	assert_true(o.has_as4);
	assert_int_equal(o.as4, 65001);
	assert_int_equal(o.hold_time, 180);
}

static void test_update_all_attributes(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	static const uint8_t nlri[] = { 24, 192, 0, 2, 25, 198, 51, 100, 128 };
	struct bgp_update u;
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	p8(&wd, 8); p8(&wd, 10);                         /* 10.0.0.0/8 */
	attr(&at, 0x40, 1, "\x00", 1);                   /* ORIGIN IGP */
	p8(&v, 2); p8(&v, 2); p32(&v, 65001); p32(&v, 4200000002u);
	p8(&v, 1); p8(&v, 2); p32(&v, 64500); p32(&v, 64501); /* AS_SET */
	attr(&at, 0x40, 2, v.b, v.n);
	attr(&at, 0x40, 3, "\xc0\x00\x02\x01", 4);       /* NEXT_HOP */
	attr(&at, 0x80, 4, "\x00\x00\x00\x64", 4);       /* MED 100 */
	attr(&at, 0x40, 5, "\x00\x00\x00\xc8", 4);       /* LOCAL_PREF 200 */
	attr(&at, 0x40, 6, "", 0);                       /* ATOMIC_AGGREGATE */
	attr(&at, 0xc0, 7, "\x00\x00\xfd\xe9\x0a\x00\x00\x01", 8); /* AGGR */
	attr(&at, 0xc0, 8, "\xff\xff\x02\x9a\xfc\x00\x00\x64", 8); /* COMM */
	attr(&at, 0x80, 9, "\x0a\x00\x00\x09", 4);       /* ORIGINATOR_ID */
	attr(&at, 0x80, 10, "\x0a\x00\x00\x0a\x0a\x00\x00\x0b", 8);
	attr(&at, 0xc0, 16, "\x00\x02\xfd\xe8\x00\x00\x00\x64", 8); /* RT */
	attr(&at, 0xc0, 32, "\x00\x00\xfc\x00\x00\x00\x00\x01\x00\x00\x00\x02",
	     12);                                        /* LARGE */
	attr(&at, 0xc0, 99, "\x01\x02", 2);              /* unknown */
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_false(u.treat_as_withdraw);
	assert_int_equal(u.origin, 0);
	assert_int_equal(u.as_path.nseg, 2);
	assert_int_equal(u.as_path.nasn, 4);
	assert_int_equal(u.as_path.asn[1], 4200000002u);
	assert_int_equal(bgp_as_path_length(&u.as_path), 3); /* SET = 1 */
	assert_int_equal(bgp_as_path_origin(&u.as_path), 0); /* ends in SET */
	assert_int_equal(u.next_hop.af, 4);
	assert_memory_equal(u.next_hop.bytes, "\xc0\x00\x02\x01", 4);
	assert_int_equal(u.med, 100);
	assert_int_equal(u.local_pref, 200);
	assert_true(u.present & BGP_HAS_ATOMIC);
	assert_int_equal(u.aggregator_as, 65001);
	assert_int_equal(u.aggregator_id, 0x0a000001);
	assert_int_equal(u.ncomm, 2);
	assert_memory_equal(u.comm, "\xff\xff\x02\x9a", 4);
	assert_int_equal(u.originator_id, 0x0a000009);
	assert_int_equal(u.cluster_len, 2);
	assert_int_equal(u.next_comm, 1);
	assert_int_equal(u.nlarge_comm, 1);
	assert_int_equal(st.n[DEC_BGP_ATTR_UNSUPPORTED], 1);
	assert_false(u.end_of_rib);
	c = u.withdrawn.c;
	assert_int_equal(bgp_nlri_next(&c, &u.withdrawn, false, true, &p, &st),
			 1);
	assert_int_equal(p.len, 8);
	assert_int_equal(p.addr[0], 10);
	assert_int_equal(bgp_nlri_next(&c, &u.withdrawn, false, true, &p, &st),
			 0);
	c = u.nlri.c;
	assert_int_equal(bgp_nlri_next(&c, &u.nlri, false, false, &p, &st), 1);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, "\xc0\x00\x02", 3);
	assert_int_equal(bgp_nlri_next(&c, &u.nlri, false, false, &p, &st), 1);
	assert_int_equal(p.len, 25);
	assert_memory_equal(p.addr, "\xc6\x33\x64\x80", 4);
	assert_int_equal(bgp_nlri_next(&c, &u.nlri, false, false, &p, &st), 0);
}

/* RFC 6793 §4.2.3: 2-octet AS_PATH with AS_TRANS, AS4_PATH fills in. */
static void test_as4_path_merge(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	struct bgp_update u;

	(void)state;
	p8(&v, 2); p8(&v, 3); p16(&v, 65001); p16(&v, 23456); p16(&v, 23456);
	attr(&at, 0x40, 2, v.b, v.n);
	v.n = 0;
	p8(&v, 2); p8(&v, 2); p32(&v, 4200000001u); p32(&v, 4200000002u);
	attr(&at, 0xc0, 17, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, true, &u), 0);
	assert_int_equal(u.as_path.nasn, 3);
	assert_int_equal(u.as_path.asn[0], 65001);
	assert_int_equal(u.as_path.asn[1], 4200000001u);
	assert_int_equal(u.as_path.asn[2], 4200000002u);
	assert_int_equal(bgp_as_path_origin(&u.as_path), 4200000002u);

	/* AS4_PATH longer than AS_PATH: ignored, counted */
	at.n = 0;
	v.n = 0;
	p8(&v, 2); p8(&v, 1); p16(&v, 23456);
	attr(&at, 0x40, 2, v.b, v.n);
	v.n = 0;
	p8(&v, 2); p8(&v, 2); p32(&v, 4200000001u); p32(&v, 4200000002u);
	attr(&at, 0xc0, 17, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, true, &u), 0);
	assert_int_equal(u.as_path.nasn, 1);
	assert_int_equal(u.as_path.asn[0], 23456);
	assert_int_equal(st.n[DEC_BGP_AS4_PATH_IGNORED], 1);
}

static void test_mp_reach_ipv6_addpath(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	struct bgp_update u;
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	p16(&v, 2); p8(&v, 1); p8(&v, 32); /* IPv6 unicast, global + LL */
	pbytes(&v, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		   "\x00\x01", 16);
	pbytes(&v, "\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		   "\x00\x01", 16);
	p8(&v, 0);
	p32(&v, 7); p8(&v, 32); pbytes(&v, "\x20\x01\x0d\xb8", 4);
	p8(&at, 0x90); p8(&at, 14); p16(&at, (unsigned)v.n); /* extended len */
	pbytes(&at, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, false, &u), 0);
	assert_int_equal(u.mp_reach.afi, 2);
	assert_int_equal(u.mp_reach.afs, bgp_afs_index(2, 1));
	assert_int_equal(u.next_hop.af, 6);
	assert_int_equal(u.next_hop.bytes[15], 1);
	assert_true(bgp_nlri_block_fits(&u.mp_reach, true));
	assert_false(bgp_nlri_block_fits(&u.mp_reach, false));
	c = u.mp_reach.c;
	assert_int_equal(bgp_nlri_next(&c, &u.mp_reach, true, false, &p, &st),
			 1);
	assert_int_equal(p.path_id, 7);
	assert_int_equal(p.len, 32);
	assert_memory_equal(p.addr, "\x20\x01\x0d\xb8", 4);
}

/* RFC 8277 labeled unicast and RFC 4364 VPN: label(s), RD, prefix. */
static void test_labeled_and_vpn(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	struct bgp_update u;
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	p16(&v, 1); p8(&v, 4); p8(&v, 4); p32(&v, 0x0a000001); p8(&v, 0);
	p8(&v, 48); p8(&v, 0x00); p8(&v, 0x06); p8(&v, 0x41); /* label 100 */
	p8(&v, 10); p8(&v, 1); p8(&v, 0);                     /* 10.1.0/24 */
	attr(&at, 0x80, 14, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, false, &u), 0);
	assert_int_equal(u.mp_reach.afs, bgp_afs_index(1, 4));
	c = u.mp_reach.c;
	assert_int_equal(bgp_nlri_next(&c, &u.mp_reach, false, false, &p, &st),
			 1);
	assert_int_equal(p.label, 100);
	assert_int_equal(p.nlabels, 1);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, "\x0a\x01\x00", 3);

	at.n = 0;
	v.n = 0;
	p16(&v, 1); p8(&v, 128); p8(&v, 12);
	pbytes(&v, "\0\0\0\0\0\0\0\0", 8); p32(&v, 0x0a000002); p8(&v, 0);
	p8(&v, 112); p8(&v, 0x00); p8(&v, 0x0c); p8(&v, 0x81); /* label 200 */
	p16(&v, 0); p16(&v, 65000); p32(&v, 100);              /* RD 65000:100 */
	p8(&v, 10); p8(&v, 2); p8(&v, 0);
	attr(&at, 0x80, 14, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, false, &u), 0);
	assert_int_equal(u.mp_reach.afs, bgp_afs_index(1, 128));
	assert_int_equal(u.next_hop.af, 4);
	assert_memory_equal(u.next_hop.bytes, "\x0a\x00\x00\x02", 4);
	c = u.mp_reach.c;
	assert_int_equal(bgp_nlri_next(&c, &u.mp_reach, false, false, &p, &st),
			 1);
	assert_int_equal(p.label, 200);
	assert_true(p.has_rd);
	assert_int_equal(p.rd, ((uint64_t)65000 << 32) | 100);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, "\x0a\x02\x00", 3);
}

/* RFC 7606: malformed attributes make the UPDATE a withdrawal. */
static void test_treat_as_withdraw(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	static const uint8_t nlri[] = { 24, 192, 0, 2 };
	struct bgp_update u;

	(void)state;
	attr(&at, 0x40, 1, "\x00\x00", 2); /* ORIGIN of length 2 */
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ORIGIN_INVALID], 1);

	/* AS_PATH segment count beyond the attribute */
	at.n = 0;
	p8(&v, 2); p8(&v, 5); p32(&v, 65001);
	attr(&at, 0x40, 2, v.b, v.n);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_AS_PATH_INVALID], 1);

	/* an attribute whose length overruns the attribute section */
	at.n = 0;
	p8(&at, 0xc0); p8(&at, 8); p8(&at, 68); p32(&at, 0xffff029a);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ATTR_OVERRUN], 1);
	/* the NLRI is still located: it can be withdrawn */
	assert_int_equal(cur_left(&u.nlri.c), sizeof(nlri));

	/* COMMUNITIES not a multiple of 4 */
	at.n = 0;
	attr(&at, 0xc0, 8, "\x01\x02\x03", 3);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
}

/*
 * RFC 7606 §3c: Optional/Transitive bits in conflict with the attribute's
 * definition.  ORIGIN is well-known (O=0 T=1, RFC 4271 §5.1.1), MED
 * optional non-transitive (O=1 T=0, §5.1.4), AS4_PATH optional
 * transitive and discarded when malformed (RFC 6793 §6).
 */
static void test_attr_flags_conflict(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b, v = { .n = 0 };
	static const uint8_t nlri[] = { 24, 192, 0, 2 };
	struct bgp_update u;

	(void)state;
	/* ORIGIN sent as optional (0xc0): treat-as-withdraw */
	attr(&at, 0xc0, 1, "\x00", 1);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ATTR_FLAGS_INVALID], 1);
	assert_int_equal(cur_left(&u.nlri.c), sizeof(nlri));

	/* MED sent transitive (0xc0): treat-as-withdraw */
	at.n = 0;
	attr(&at, 0x40, 1, "\x00", 1);
	attr(&at, 0xc0, 4, "\x00\x00\x00\x64", 4);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ATTR_FLAGS_INVALID], 2);

	/* correct flags, the Partial bit set on ORIGIN (0x60): accepted */
	at.n = 0;
	attr(&at, 0x60, 1, "\x00", 1);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_false(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ATTR_FLAGS_INVALID], 2);

	/* AS4_PATH sent well-known (0x40) on a 2-octet session: discarded,
	 * the route stands with the AS_PATH 65001 23456 as sent */
	at.n = 0;
	attr(&at, 0x40, 1, "\x00", 1);
	p8(&v, 2); p8(&v, 2); p16(&v, 65001); p16(&v, 23456);
	attr(&at, 0x40, 2, v.b, v.n);
	v.n = 0;
	p8(&v, 2); p8(&v, 1); p32(&v, 4200000000u);
	attr(&at, 0x40, 17, v.b, v.n);
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, true, &u), 0);
	assert_false(u.treat_as_withdraw);
	assert_int_equal(st.n[DEC_BGP_ATTR_FLAGS_INVALID], 3);
	assert_int_equal(u.as_path.nasn, 2);
	assert_int_equal(u.as_path.asn[1], 23456);
}

static void test_update_unusable(void **state)
{
	struct buf b, at = { .n = 0 }, wd = { .n = 0 }, v = { .n = 0 };
	struct bgp_update u;

	(void)state;
	/* withdrawn routes length 0x7000 overruns the UPDATE */
	bgp_begin(&b, BGP_UPDATE);
	p16(&b, 0x7000);
	p16(&b, 0);
	bgp_end(&b);
	assert_int_equal(decode(&b, false, &u), -1);
	assert_int_equal(st.n[DEC_BGP_WITHDRAWN_OVERRUN], 1);
	/* total attribute length overruns */
	bgp_begin(&b, BGP_UPDATE);
	p16(&b, 0);
	p16(&b, 200);
	bgp_end(&b);
	assert_int_equal(decode(&b, false, &u), -1);
	assert_int_equal(st.n[DEC_BGP_ATTRS_OVERRUN], 1);
	/* MP_REACH next hop length beyond the attribute */
	p16(&v, 1); p8(&v, 1); p8(&v, 200); p32(&v, 0);
	attr(&at, 0x80, 14, v.b, v.n);
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, false, &u), -1);
	assert_int_equal(st.n[DEC_BGP_MP_NEXTHOP_INVALID], 1);
	/* BGP length disagreeing with the frame */
	bgp_begin(&b, BGP_UPDATE);
	p16(&b, 0);
	p16(&b, 0);
	b.b[17] = 30;
	assert_int_equal(decode(&b, false, &u), -1);
	assert_int_equal(st.n[DEC_BGP_LENGTH_INVALID], 1);
}

static void test_nlri_prefix_too_long(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b;
	static const uint8_t nlri[] = { 33, 10, 0, 0, 0, 1 };
	struct bgp_update u;
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	update(&b, &wd, &at, nlri, sizeof(nlri));
	assert_int_equal(decode(&b, false, &u), 0);
	assert_false(bgp_nlri_block_fits(&u.nlri, false));
	c = u.nlri.c;
	assert_int_equal(bgp_nlri_next(&c, &u.nlri, false, false, &p, &st),
			 -1);
	assert_int_equal(st.n[DEC_BGP_NLRI_PREFIX_LENGTH], 1);
	assert_int_equal(bgp_nlri_next(&c, &u.nlri, false, false, &p, &st), 0);
}

static void test_end_of_rib(void **state)
{
	struct buf wd = { .n = 0 }, at = { .n = 0 }, b;
	struct bgp_update u;

	(void)state;
	update(&b, &wd, &at, NULL, 0); /* 23 bytes: IPv4 unicast EoR */
	assert_int_equal(b.n, 23);
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.end_of_rib);
	assert_int_equal(u.eor_afi, 1);
	assert_int_equal(u.eor_safi, 1);
	attr(&at, 0x80, 15, "\x00\x02\x01", 3); /* empty MP_UNREACH v6 */
	update(&b, &wd, &at, NULL, 0);
	assert_int_equal(decode(&b, false, &u), 0);
	assert_true(u.end_of_rib);
	assert_int_equal(u.eor_afi, 2);
	assert_int_equal(u.eor_safi, 1);
}

/* A single IPv6 /32 with path id 0x20010db8... decodes both ways. */
static void test_addpath_ambiguous(void **state)
{
	struct bgp_nlri_block blk;
	/* plain: /0 then /0 ... ; add-path: id 0x00000000, /0 */
	static const uint8_t amb[] = { 0, 0, 0, 0, 0 };

	(void)state;
	memset(&blk, 0, sizeof(blk));
	cur_init(&blk.c, amb, sizeof(amb));
	blk.afi = 2;
	blk.safi = 1;
	blk.afs = bgp_afs_index(2, 1);
	assert_true(bgp_nlri_block_fits(&blk, false)); /* five ::/0 */
	assert_true(bgp_nlri_block_fits(&blk, true));  /* id 0, ::/0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open_capabilities, setup),
		cmocka_unit_test_setup(test_addpath_asymmetric, setup),
		cmocka_unit_test_setup(test_open_extended_params, setup),
		cmocka_unit_test_setup(test_update_all_attributes, setup),
		cmocka_unit_test_setup(test_as4_path_merge, setup),
		cmocka_unit_test_setup(test_mp_reach_ipv6_addpath, setup),
		cmocka_unit_test_setup(test_labeled_and_vpn, setup),
		cmocka_unit_test_setup(test_treat_as_withdraw, setup),
		cmocka_unit_test_setup(test_attr_flags_conflict, setup),
		cmocka_unit_test_setup(test_update_unusable, setup),
		cmocka_unit_test_setup(test_nlri_prefix_too_long, setup),
		cmocka_unit_test_setup(test_end_of_rib, setup),
		cmocka_unit_test_setup(test_addpath_ambiguous, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

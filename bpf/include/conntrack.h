/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conntrack.h - the firewall gate: accelerate only flows netfilter has
 * already accepted, both ways (tcaccel's `respect` mode; nftables
 * flowtables make the same trade).
 *
 * bpf_redirect() skips netfilter PREROUTING/FORWARD/POSTROUTING.  With the
 * gate on, a packet takes the fast path only when conntrack holds an entry
 * for its flow that
 *   - is confirmed, has seen a reply, and (TCP) is ASSURED and ESTABLISHED;
 *   - carries both of tcaccel's "accepted" labels (below): a packet of each
 *     direction crossed every FORWARD and POSTROUTING chain;
 *   - needs no per-packet work of conntrack's own: no helper (ftp, sip: they
 *     parse every packet), no sequence adjustment (NAT helpers, synproxy);
 *     and is in the default zone;
 *   - has the tuples plain tracking or NAT makes: the reply tuple is the
 *     inverse of the original one, except where a NAT bit says nf_nat
 *     rewrites (nat.h).  IPVS, for one, rewrites an entry's reply tuple
 *     without NAT bits; such flows stay on the stack.
 * Everything else goes to the stack, under a CT_* reason.
 *
 * Why labels.  Conntrack sets SEEN_REPLY at PREROUTING, before a FORWARD
 * rule may drop that reply: "confirmed and answered" does not prove the
 * rules accepted the reply direction.  tcaccel's table (scripts/tcaccel,
 * tracking_ensure) therefore has a chain at hook forward, priority
 * 2147483647 (the last: iptables-nft, iptables-legacy and ip6tables filter
 * at 0, every other nftables base chain before it; a drop in any base
 * chain of a hook is final, so a packet reaching the last one was accepted
 * by all) that sets label 124 (original direction) or 125 (reply), and one
 * at hook postrouting, priority 2147483646 (after NAT and filter chains,
 * before conntrack's confirm at INT_MAX) that sets 126 or 127 on packets
 * whose direction already has 124/125.  The gate wants 126 and 127.
 * Labels, not the mark: `ct mark` belongs to the user (CONNMARK
 * --save-mark/--restore-mark copy all 32 bits by default, so any bit we
 * took could leak into packet marks and policy routing), while labels are
 * set bit by bit and tcaccel's four are checked unused at load.  Labels
 * live in ct->ext (NF_CT_EXT_LABELS, offsets resolved by CO-RE), read with
 * bpf_probe_read_kernel() (the offset is per entry).  An entry created
 * before the table existed has no labels extension: it never qualifies.
 *
 * Conntrack never sees the fast path's packets, so its TCP window tracking
 * cannot follow the sequence numbers: a FIN after megabytes of fast-path
 * data is "out of window", INVALID, and dropped by the common
 * `ct state invalid drop`.  nftables flowtables mark offloaded flows so
 * conntrack relaxes that check; a tc program cannot, so `load` sets the
 * netns's nf_conntrack_tcp_be_liberal=1 in respect mode (restored on
 * unload).  Same trade: window checks are off for tracked TCP flows.
 *
 * Kernel interfaces relied on (net/netfilter/nf_conntrack_bpf.c, 6.0+):
 * the kfuncs below, callable from tc programs; the lookup takes a reference
 * that must be released.  Their options struct is 12 bytes: 6.0-6.9 accept
 * only NF_BPF_CT_OPTS_SZ = 12, 6.10 grew it to 16 (ct zone fields) and
 * still accepts 12 (then ct_zone_id, our reserved[], must be 0), so 12 is
 * the size every kernel takes; the lookup is in the default zone.  The
 * kfuncs are __weak: the program needs them, but `load` checks the
 * kernel's BTF for them first and uses the object built without the gate
 * (TCACCEL_NO_CONNTRACK) when they are missing, refusing respect mode.
 * (bpf_ksym_exists() would not do: on 6.1 the verifier refuses a ld_imm64
 * of a kfunc, and an unresolved kfunc call must be dead code to load.)
 * nf_conn fields are read with CO-RE (preserve_access_index, resolved by
 * tc's libbpf 1.1 against the kernel BTF) - no vmlinux.h needed.
 */
#ifndef TCACCEL_CONNTRACK_H
#define TCACCEL_CONNTRACK_H

#include "common.h"
#include "reasons.h"
#include <bpf/bpf_core_read.h>

/* Only the fields we use; libbpf relocates their offsets from kernel BTF. */
struct ip_ct_tcp {
	__u8 state;		/* enum tcp_conntrack */
} __attribute__((preserve_access_index));

union nf_conntrack_proto {
	struct ip_ct_tcp tcp;
} __attribute__((preserve_access_index));

union nf_inet_addr {
	__be32 ip;
	__be32 ip6[4];
} __attribute__((preserve_access_index));

union nf_conntrack_man_proto {
	__be16 all;
} __attribute__((preserve_access_index));

struct nf_conntrack_man {
	union nf_inet_addr u3;
	union nf_conntrack_man_proto u;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple {
	struct nf_conntrack_man src;
	struct {
		union nf_inet_addr u3;
		union {
			__be16 all;
		} u;
	} dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash {
	struct nf_conntrack_tuple tuple;
} __attribute__((preserve_access_index));

struct nf_conntrack_zone {
	__u16 id;
} __attribute__((preserve_access_index));

struct nf_ct_ext {
	__u8 offset[1];		/* [NF_CT_EXT_NUM]: 0 = that extension is absent */
} __attribute__((preserve_access_index));

enum nf_ct_ext_id {
	NF_CT_EXT_HELPER,
	NF_CT_EXT_NAT,
	NF_CT_EXT_LABELS,
};

struct nf_conn {
	__u32 timeout;
	struct nf_conntrack_zone zone;
	struct nf_conntrack_tuple_hash tuplehash[2];
	unsigned long status;
	struct nf_ct_ext *ext;
	union nf_conntrack_proto proto;
} __attribute__((preserve_access_index));

#define TCACCEL_TCP_CONNTRACK_ESTABLISHED 3	/* enum tcp_conntrack */

/*
 * The kfuncs' options, in the layout (and size, 12) every kernel from 6.0
 * accepts; see above.
 */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;		/* out: the direction the tuple matched */
	__u8 reserved[2];	/* 0 (6.10+: ct_zone_id, 0 = default zone) */
};
#define TCACCEL_CT_OPTS_SZ 12
_Static_assert(sizeof(struct bpf_ct_opts) == TCACCEL_CT_OPTS_SZ, "NF_BPF_CT_OPTS_SZ of 6.0-6.9");

#ifndef BPF_F_CURRENT_NETNS
#define BPF_F_CURRENT_NETNS (-1)
#endif

/* include/uapi/linux/netfilter/nf_conntrack_common.h */
#define TCACCEL_IPS_SEEN_REPLY		(1UL << 1)
#define TCACCEL_IPS_ASSURED		(1UL << 2)
#define TCACCEL_IPS_CONFIRMED		(1UL << 3)
#define TCACCEL_IPS_SRC_NAT		(1UL << 4)
#define TCACCEL_IPS_DST_NAT		(1UL << 5)
#define TCACCEL_IPS_SEQ_ADJUST		(1UL << 6)
#define TCACCEL_IPS_SRC_NAT_DONE	(1UL << 7)
#define TCACCEL_IPS_DST_NAT_DONE	(1UL << 8)
#define TCACCEL_IPS_DYING		(1UL << 9)
#define TCACCEL_IPS_HELPER		(1UL << 13)
#define TCACCEL_IP_CT_DIR_ORIGINAL	0

/*
 * tcaccel's conntrack labels (bit numbers; scripts/tcaccel's table sets
 * them): a packet of that direction crossed every forward / postrouting
 * chain.  The gate needs the two postrouting ones.
 */
#define TCACCEL_CT_LABEL_FWD_ORIG	124
#define TCACCEL_CT_LABEL_FWD_REPLY	125
#define TCACCEL_CT_LABEL_OK_ORIG	126
#define TCACCEL_CT_LABEL_OK_REPLY	127

#ifndef TCACCEL_NO_CONNTRACK
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __weak __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __weak __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *ct, __u32 timeout) __weak __ksym;
#endif

/* TCP header flags byte (offset 13) bits we care about. */
#define TCACCEL_TCP_FIN 0x01
#define TCACCEL_TCP_SYN 0x02
#define TCACCEL_TCP_RST 0x04

/* A flow's addresses (IPv4 in [0]) and ports, network order. */
struct tcaccel_ct_tuple {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
};

/* nat.h: which parts of the packet nf_nat rewrites in this direction. */
#define TCACCEL_NAT_SRC 1
#define TCACCEL_NAT_DST 2

/*
 * What the gate found for one packet; tcaccel_gate_open() fills it,
 * tcaccel_gate_close() releases it.
 */
struct tcaccel_gate {
	struct nf_conn *ct;		/* the referenced entry, or NULL */
	/*
	 * 1 while ct holds a reference.  tcaccel_gate_close() tests this, not
	 * ct: before 6.3 or so the verifier does not know that a kfunc's
	 * acquired pointer, once checked, stays non-NULL, explores a "NULL"
	 * branch where the reference is still held and refuses the program
	 * ("Unreleased reference", seen on 6.1).  A full 64-bit scalar spilled
	 * from a register is tracked exactly on every kernel.
	 */
	__u64 held;
	__u32 verdict;			/* TCACCEL_GO_ON or the CT_* reason */
	__u8 on;			/* the gate is on for this packet */
	__u8 dir;			/* the packet's direction in ct */
	__u8 nat_entry;			/* the entry has NAT bits: nf_nat rewrites the flow */
	__u8 nat;			/* TCACCEL_NAT_*: what nf_nat rewrites in this packet */
	__u8 v6;
	__u8 tcp;			/* the packet is TCP */
	__u32 masq_ifindex;		/* masquerade's interface (original direction), or 0 */
	struct tcaccel_ct_tuple pkt;	/* the packet's tuple */
	struct tcaccel_ct_tuple to;	/* ... as nf_nat leaves it (nat.h) */
};

/*
 * Both of labels @a and @b are set on the entry (false when it has no
 * labels extension).  One read for both: the 128 label bits.
 */
static __always_inline bool tcaccel_ct_labels(const struct nf_conn *ct, __u32 a, __u32 b)
{
	struct nf_ct_ext *ext = ct->ext;
	__u64 words[2] = {};
	__u8 off;

	if (!ext || !bpf_core_enum_value_exists(enum nf_ct_ext_id, NF_CT_EXT_LABELS))
		return false;
	off = ext->offset[bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_LABELS)];
	if (!off)
		return false;
	/* struct nf_conn_labels { unsigned long bits[]; }: test_bit() order. */
	if (bpf_probe_read_kernel(words, sizeof(words), (void *)ext + off))
		return false;
	return ((words[a / 64] >> (a % 64)) & 1) && ((words[b / 64] >> (b % 64)) & 1);
}

struct nf_conn_help {
	void *helper;		/* struct nf_conntrack_helper __rcu * */
} __attribute__((preserve_access_index));

/*
 * The entry has a helper: its helper extension points to one (an entry
 * made through ctnetlink carries the extension with no helper in it).
 */
static __always_inline bool tcaccel_ct_has_helper(const struct nf_conn *ct)
{
	struct nf_ct_ext *ext = ct->ext;
	void *helper = NULL;
	__u8 off;

	if (!ext)
		return false;
	off = ext->offset[bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_HELPER)];
	if (!off)
		return false;
	if (bpf_probe_read_kernel(&helper, sizeof(helper), (void *)ext + off +
				  bpf_core_field_offset(struct nf_conn_help, helper)))
		return true;	/* unsure: the stack decides */
	return helper != NULL;
}

/*
 * The conditions on an entry, NAT or not (order = the reasons' order):
 * TCACCEL_GO_ON or the CT_* reason.
 */
static __always_inline __u32 tcaccel_ct_check(const struct nf_conn *ct, __u8 proto)
{
	unsigned long status = ct->status;

	/*
	 * Established: confirmed and answered.  For TCP also ASSURED, which
	 * conntrack sets when it sees the handshake's last ACK: until then its
	 * TCP state is SYN_RECV, and a FIN it later sees from that state, far
	 * beyond the sequence numbers it knows, is INVALID.
	 */
	if (!(status & TCACCEL_IPS_CONFIRMED) || !(status & TCACCEL_IPS_SEEN_REPLY) ||
	    (status & TCACCEL_IPS_DYING) ||
	    (proto == IPPROTO_TCP && !(status & TCACCEL_IPS_ASSURED)))
		return TCACCEL_CT_NOT_ESTABLISHED;
	/*
	 * Once a FIN went through, conntrack's TCP state leaves ESTABLISHED:
	 * the teardown's last ACKs must reach it too (and must not refresh the
	 * entry with the established timeout).
	 */
	if (proto == IPPROTO_TCP && ct->proto.tcp.state != TCACCEL_TCP_CONNTRACK_ESTABLISHED)
		return TCACCEL_CT_NOT_ESTABLISHED;
	/* Both directions crossed all forward and postrouting chains (above). */
	if (!tcaccel_ct_labels(ct, TCACCEL_CT_LABEL_OK_ORIG, TCACCEL_CT_LABEL_OK_REPLY))
		return TCACCEL_CT_NOT_ACCEPTED;
	/*
	 * A helper (nf_conntrack_ftp, _sip, ...) reads every packet of its
	 * connection (to open expectations, to mangle addresses in payloads);
	 * a sequence adjustment (after a NAT helper changed a payload's length,
	 * or synproxy) rewrites every packet's TCP sequence numbers.
	 */
	/*
	 * (Synproxy: nf_ct_seqadj_init() sets IPS_SEQ_ADJUST for every flow it
	 * proxied.  Its extension alone says nothing: ctnetlink attaches it,
	 * and the sequence adjustment's, to every entry it creates.)
	 */
	if ((status & (TCACCEL_IPS_SEQ_ADJUST | TCACCEL_IPS_HELPER)) || tcaccel_ct_has_helper(ct))
		return TCACCEL_CT_HELPER;
	/* The lookup is in the default zone; a zone on one direction only still matches. */
	if (bpf_core_field_exists(ct->zone) && ct->zone.id != 0)
		return TCACCEL_CT_ZONE;
	return TCACCEL_GO_ON;
}

/*
 * nf_conn's tuple of direction @dir's opposite, inverted: what a packet of
 * direction @dir looks like after nf_nat (nf_nat_manip_pkt():
 * nf_ct_invert_tuple(&target, &ct->tuplehash[!dir].tuple)).  Both tuples
 * are read with fixed offsets and chosen in registers: a select between two
 * field offsets would be a variable offset the verifier refuses.
 */
static __always_inline void tcaccel_ct_target(const struct nf_conn *ct, __u8 dir, bool v6,
					      struct tcaccel_ct_tuple *t)
{
	const struct nf_conntrack_tuple *o = &ct->tuplehash[0].tuple;	/* original */
	const struct nf_conntrack_tuple *r = &ct->tuplehash[1].tuple;	/* reply */
	bool orig = dir == TCACCEL_IP_CT_DIR_ORIGINAL;
	__be32 a, b;

	/* target.src = other.dst, target.dst = other.src */
	if (v6) {
#pragma unroll
		for (int i = 0; i < 4; i++) {
			a = r->dst.u3.ip6[i];
			b = o->dst.u3.ip6[i];
			t->src[i] = orig ? a : b;
			a = r->src.u3.ip6[i];
			b = o->src.u3.ip6[i];
			t->dst[i] = orig ? a : b;
		}
	} else {
		a = r->dst.u3.ip;
		b = o->dst.u3.ip;
		t->src[0] = orig ? a : b;
		a = r->src.u3.ip;
		b = o->src.u3.ip;
		t->dst[0] = orig ? a : b;
	}
	a = r->dst.u.all;
	b = o->dst.u.all;
	t->sport = orig ? a : b;
	a = r->src.u.all;
	b = o->src.u.all;
	t->dport = orig ? a : b;
}

static __always_inline bool tcaccel_addr_eq(const __be32 *x, const __be32 *y, bool v6)
{
	if (!v6)
		return x[0] == y[0];
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* The packet's tuple, from the lookup's tuple (addresses) and ports. */
static __always_inline void tcaccel_gate_set_pkt(struct tcaccel_gate *g, const struct bpf_sock_tuple *t,
						 bool v6)
{
	if (v6) {
		__builtin_memcpy(g->pkt.src, t->ipv6.saddr, 16);
		__builtin_memcpy(g->pkt.dst, t->ipv6.daddr, 16);
		g->pkt.sport = t->ipv6.sport;
		g->pkt.dport = t->ipv6.dport;
	} else {
		g->pkt.src[0] = t->ipv4.saddr;
		g->pkt.dst[0] = t->ipv4.daddr;
		g->pkt.sport = t->ipv4.sport;
		g->pkt.dport = t->ipv4.dport;
	}
}

/*
 * Where the entry's tuples must stand for what nf_nat does with this
 * packet: which manips apply (the status bits, swapped for the reply
 * direction as nf_nat_packet() swaps them), and the rest of the packet's
 * tuple exactly the other direction's inverse.  TCACCEL_GO_ON or CT_TUPLE.
 */
static __always_inline __u32 tcaccel_ct_tuples(struct tcaccel_gate *g, unsigned long status)
{
	unsigned long src_bit = TCACCEL_IPS_SRC_NAT, dst_bit = TCACCEL_IPS_DST_NAT;
	bool v6 = g->v6;

	if (g->dir != TCACCEL_IP_CT_DIR_ORIGINAL) {
		src_bit = TCACCEL_IPS_DST_NAT;
		dst_bit = TCACCEL_IPS_SRC_NAT;
	}
	g->nat = 0;
	if (status & src_bit)
		g->nat |= TCACCEL_NAT_SRC;
	if (status & dst_bit)
		g->nat |= TCACCEL_NAT_DST;
	tcaccel_ct_target(g->ct, g->dir, v6, &g->to);
	if (!(g->nat & TCACCEL_NAT_SRC) &&
	    (!tcaccel_addr_eq(g->to.src, g->pkt.src, v6) || g->to.sport != g->pkt.sport))
		return TCACCEL_CT_TUPLE;
	if (!(g->nat & TCACCEL_NAT_DST) &&
	    (!tcaccel_addr_eq(g->to.dst, g->pkt.dst, v6) || g->to.dport != g->pkt.dport))
		return TCACCEL_CT_TUPLE;
	return TCACCEL_GO_ON;
}

struct nf_conn_nat {
	int masq_index;
} __attribute__((preserve_access_index));

/*
 * A NAT entry's own conditions (nf_nat_inet_fn()): both manip types were
 * set up (the *_NAT_DONE bits, which nf_nat_setup_info() sets with the
 * binding), and for a masquerade binding, the interface it was made on
 * (nf_conn_nat.masq_index): nf_nat_oif_changed() drops the original
 * direction's packets that would leave elsewhere (tcaccel_nat_oif(),
 * after the FIB said where this one goes).  TCACCEL_GO_ON or CT_NAT.
 */
static __always_inline __u32 tcaccel_ct_nat_check(struct tcaccel_gate *g, unsigned long status)
{
	struct nf_ct_ext *ext = g->ct->ext;
	int masq = 0;
	__u8 off;

	if (((status & TCACCEL_IPS_SRC_NAT) && !(status & TCACCEL_IPS_SRC_NAT_DONE)) ||
	    ((status & TCACCEL_IPS_DST_NAT) && !(status & TCACCEL_IPS_DST_NAT_DONE)))
		return TCACCEL_CT_NAT;
	if (!bpf_core_field_exists(((struct nf_conn_nat *)0)->masq_index) || !ext ||
	    !bpf_core_enum_value_exists(enum nf_ct_ext_id, NF_CT_EXT_NAT))
		return TCACCEL_GO_ON;
	off = ext->offset[bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_NAT)];
	if (!off)
		return TCACCEL_GO_ON;
	if (bpf_probe_read_kernel(&masq, sizeof(masq), (void *)ext + off +
				  bpf_core_field_offset(struct nf_conn_nat, masq_index)))
		return TCACCEL_CT_NAT;
	if (g->dir == TCACCEL_IP_CT_DIR_ORIGINAL)
		g->masq_ifindex = masq;
	return TCACCEL_GO_ON;
}

#ifndef TCACCEL_NO_CONNTRACK
/*
 * Open the gate for a packet: the checks that need no lookup, the lookup,
 * the entry's conditions and tuples.  @tuple holds the packet's addresses
 * and ports (@tuple_sz says which family), @tcp_flags its TCP flags byte,
 * @l4_len the length of the IP payload.
 * Afterwards g->verdict is TCACCEL_GO_ON or the CT_* reason, g->nat says
 * whether nf_nat rewrites the packet (then nat.h applies g->to), and g->ct
 * holds a reference tcaccel_gate_close() releases.
 */
static __always_inline void tcaccel_gate_open(struct __sk_buff *skb, struct tcaccel_gate *g,
					      struct bpf_sock_tuple *tuple, __u32 tuple_sz,
					      __u8 proto, __u8 tcp_flags, __u32 l4_len)
{
	struct bpf_ct_opts opts = {
		.netns_id = BPF_F_CURRENT_NETNS,	/* the netns of skb->dev */
		.l4proto = proto,
	};
	unsigned long status;
	struct nf_conn *ct;
	__u32 reason;

	g->on = 1;
	g->v6 = tuple_sz == sizeof(tuple->ipv6);
	g->tcp = proto == IPPROTO_TCP;
	/*
	 * Not TCP/UDP, or a TCP/UDP header the IP length cuts short (conntrack
	 * calls those INVALID and tracks nothing for them).
	 */
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    l4_len < (proto == IPPROTO_TCP ? 20 : 8)) {
		g->verdict = TCACCEL_CT_PROTO;
		return;
	}
	tcaccel_gate_set_pkt(g, tuple, g->v6);
	ct = bpf_skb_ct_lookup(skb, tuple, tuple_sz, &opts, TCACCEL_CT_OPTS_SZ);
	/*
	 * Connection setup and teardown must be seen by conntrack (and the
	 * rules): SYN, FIN and RST go the slow way.  (Looked up all the same:
	 * a NATed flow's FIN is then counted as what it is, not as the FIB's
	 * answer for the untranslated address.)
	 */
	reason = (tcp_flags & (TCACCEL_TCP_SYN | TCACCEL_TCP_FIN | TCACCEL_TCP_RST)) ?
		 TCACCEL_CT_TCP_CTRL : TCACCEL_GO_ON;
	if (!ct) {
		g->verdict = reason == TCACCEL_GO_ON ? TCACCEL_CT_MISS : reason;
		return;
	}
	g->ct = ct;
	g->held = 1;
	g->dir = opts.dir;
	status = ct->status;
	g->nat_entry = !!(status & (TCACCEL_IPS_SRC_NAT | TCACCEL_IPS_DST_NAT));
	if (reason == TCACCEL_GO_ON)
		reason = tcaccel_ct_check(ct, proto);
	if (reason == TCACCEL_GO_ON)
		reason = tcaccel_ct_tuples(g, status);
	if (reason == TCACCEL_GO_ON && g->nat_entry)
		reason = tcaccel_ct_nat_check(g, status);
	g->verdict = reason;
}

/*
 * Release the entry; when the packet was forwarded (@forwarded), first
 * refresh its timeout to @timeout_ms (conntrack refreshes it per packet on
 * the slow path; our packets never reach it; 0: leave it alone).
 */
static __always_inline void tcaccel_gate_close(struct tcaccel_gate *g, bool forwarded, __u32 timeout_ms)
{
	struct nf_conn *ct = g->ct;

	if (!g->held)
		return;
	if (forwarded && timeout_ms)
		bpf_ct_change_timeout(ct, timeout_ms);
	bpf_ct_release(ct);
}

#else /* TCACCEL_NO_CONNTRACK: the object for kernels without the conntrack kfuncs */

/*
 * `load` never sets the gate flag with this object (it refuses respect mode
 * without the kfuncs); were it set anyway, nothing would pass the gate.
 */
static __always_inline void tcaccel_gate_open(struct __sk_buff *skb, struct tcaccel_gate *g,
					      struct bpf_sock_tuple *tuple, __u32 tuple_sz,
					      __u8 proto, __u8 tcp_flags, __u32 l4_len)
{
	(void)skb, (void)tuple, (void)tuple_sz, (void)proto, (void)tcp_flags, (void)l4_len;
	g->on = 1;
	g->verdict = TCACCEL_CT_MISS;
}

static __always_inline void tcaccel_gate_close(struct tcaccel_gate *g, bool forwarded, __u32 timeout_ms)
{
	(void)g, (void)forwarded, (void)timeout_ms;
}
#endif /* TCACCEL_NO_CONNTRACK */

#endif /* TCACCEL_CONNTRACK_H */

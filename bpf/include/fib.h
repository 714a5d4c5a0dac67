/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fib.h - ask the kernel's FIB where a packet goes, and name the answer.
 *
 * bpf_fib_lookup() runs the same route (and, for SUCCESS, neighbour)
 * lookup as the forwarding path.  We call it with:
 *   - ifindex = the ingress device, so ip rules with iif and the
 *     per-device forwarding sysctl apply (FWD_DISABLED otherwise);
 *   - tot_len = the IP packet's length, for a plain (non-GSO) packet: the
 *     FIB then checks it against the MTU forwarding would use - a locked
 *     route MTU, a learnt path MTU, IPv6's per-device mtu6 - and answers
 *     FRAG_NEEDED when it does not fit.  (With tot_len = 0 it only checks
 *     the skb against the egress device's MTU, plus 18 bytes of slack.)
 *   - tot_len = the length of one segment's IP packet for a GSO packet
 *     (its own length is the whole super-packet, which would always fail):
 *     ip_forward() checks every segment against the same MTU
 *     (skb_gso_validate_network_len()); see tcaccel_gso_seglen().
 * Not visible to BPF: an IPv4 route MTU that is not locked (`ip route ...
 * mtu N` without `lock`), which ip_forward() honours but the FIB helper
 * does not; such routes need `mtu lock N` to be honoured on the fast path.
 */
#ifndef TCACCEL_FIB_H
#define TCACCEL_FIB_H

#include "common.h"
#include "maps.h"
#include "reasons.h"

/* Not in every UAPI header set (6.10): the lookup takes fib->mark. */
#ifndef BPF_FIB_LOOKUP_MARK
#define BPF_FIB_LOOKUP_MARK (1U << 5)
#endif

/*
 * skb->mark into the query.  Kernels from 6.10 have `__u32 mark` where the
 * output smac[0..3] is (a union); older UAPI headers lack the field name,
 * so write it there.  Only with BPF_FIB_LOOKUP_MARK, which only kernels that
 * read it accept.
 */
static __always_inline void tcaccel_fib_set_mark(struct bpf_fib_lookup *fib, __u32 mark)
{
	__builtin_memcpy(fib->smac, &mark, sizeof(mark));
}

/*
 * The IP length of one segment of a GSO packet, as ip_forward() checks it
 * (skb_gso_network_seglen(): network + transport header + gso_size): TCP
 * with its own header length, UDP (UDP_SEGMENT) with 8.  For any other
 * protocol (tunnels: GRE, IPIP) the transport header is not known here;
 * the value is then a lower bound, and tcaccel_fib_post()'s
 * bpf_check_mtu(BPF_MTU_CHK_SEGS) checks the exact segments against the
 * device MTU (a route MTU below it is then not seen: documented).  So is a
 * UDP tunnel's (VXLAN) GSO packet in transit.
 * @l4: the transport header (bounds-checked here), @l3_hdr: the IP header
 * length.
 */
static __always_inline __u32 tcaccel_gso_seglen(const struct __sk_buff *skb, const void *l4,
						const void *data_end, __u8 proto, __u32 l3_hdr)
{
	__u32 l4_hdr = 0;

	if (proto == IPPROTO_TCP) {
		const __u8 *t = l4;

		if ((const void *)(t + 13) > data_end)
			return l3_hdr + skb->gso_size;
		l4_hdr = (t[12] >> 4) * 4;
	} else if (proto == IPPROTO_UDP) {
		l4_hdr = 8;
	}
	return l3_hdr + l4_hdr + skb->gso_size;
}

static __always_inline __u32 tcaccel_fib_reason(long rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:		return TCACCEL_GO_ON;
	case BPF_FIB_LKUP_RET_BLACKHOLE:	return TCACCEL_FIB_BLACKHOLE;
	case BPF_FIB_LKUP_RET_UNREACHABLE:	return TCACCEL_FIB_UNREACHABLE;
	case BPF_FIB_LKUP_RET_PROHIBIT:		return TCACCEL_FIB_PROHIBIT;
	case BPF_FIB_LKUP_RET_NOT_FWDED:	return TCACCEL_FIB_NOT_FWDED;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:	return TCACCEL_FIB_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:	return TCACCEL_FIB_UNSUPP_LWT;
	case BPF_FIB_LKUP_RET_NO_NEIGH:		return TCACCEL_FIB_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:	return TCACCEL_FIB_FRAG_NEEDED;
	case BPF_FIB_LKUP_RET_NO_SRC_ADDR:	return TCACCEL_FIB_NO_SRC_ADDR;
	default:				return TCACCEL_FIB_ERROR;
	}
}

/*
 * Checks every family shares once the FIB said SUCCESS: TCACCEL_GO_ON or
 * the pass reason.  @l3_len: the IP packet length from its header; @ttl:
 * TTL or hop limit.
 */
static __always_inline __u32 tcaccel_fib_post(struct __sk_buff *skb,
					      const struct bpf_fib_lookup *fib,
					      __u32 l3_len, __u8 ttl)
{
	/*
	 * ip_forward() would answer with a redirect to the sender; only the
	 * stack does that, so hairpins go there.
	 */
	if (fib->ifindex == skb->ingress_ifindex)
		return TCACCEL_HAIRPIN;
	/*
	 * Routed, so now TTL matters: ip_forward() checks it after the route
	 * lookup (a local packet with TTL 1 is delivered, not expired).
	 */
	if (ttl <= 1)
		return TCACCEL_TTL_EXCEEDED;
	/*
	 * A GSO packet's segments were checked by the FIB against the route's
	 * MTU with tot_len = their length (tcaccel_gso_seglen()); that length
	 * is exact for TCP and UDP only.  bpf_check_mtu() with
	 * BPF_MTU_CHK_SEGS runs the kernel's own skb_gso_validate_network_len()
	 * against the egress device's MTU, exact for every GSO type (tunnels
	 * included), so a packet GRO built from 9000-byte frames never leaves
	 * through a 1500-byte link.  (Plain packets: the FIB alone, tot_len.)
	 */
	if (skb->gso_size) {
		__u32 mtu = 0;

		if (bpf_check_mtu(skb, fib->ifindex, &mtu, 0, BPF_MTU_CHK_SEGS))
			return TCACCEL_FIB_FRAG_NEEDED;
	}
	/*
	 * ip_rcv_core() and ipv6_rcv() trim whatever follows the IP packet
	 * (Ethernet padding of short frames, trailers) before forwarding it;
	 * redirected, the frame would leave with those bytes.  The stack
	 * forwards it trimmed.  (The callers have already sent frames shorter
	 * than their IP length to the stack as TRUNCATED.)
	 */
	if (skb->len != sizeof(struct ethhdr) + l3_len)
		return TCACCEL_PADDED;
	return TCACCEL_GO_ON;
}

/*
 * The lookup flags for "no neighbour needed" (@skip): BPF_FIB_LOOKUP_SKIP_NEIGH
 * where the kernel has it (upstream 6.3; Debian's 6.1 has it backported).
 * Kernels without it answer -EINVAL to a flag they do not know (the whole
 * lookup fails), so there `load` sets
 * TCACCEL_F_NO_SKIP_NEIGH and we look up plainly: the egress, the next hop
 * and the MTU check come before the neighbour lookup, so the answer is the
 * same apart from NO_NEIGH for an unknown neighbour.
 */
static __always_inline __u32 tcaccel_fib_skip_neigh(bool skip, __u32 cfg_flags)
{
	return skip && !(cfg_flags & TCACCEL_F_NO_SKIP_NEIGH) ? BPF_FIB_LOOKUP_SKIP_NEIGH : 0;
}

/*
 * bpf_redirect_peer() works only towards a veth (or netkit) whose peer is in
 * another netns and up; anything else the kernel drops (skb_do_redirect()).
 * The scripts keep the list of such devices in tcaccel_peers.
 */
static __always_inline bool tcaccel_peer_capable(__u32 ifindex)
{
	return bpf_map_lookup_elem(&tcaccel_peers, &ifindex) != NULL;
}

/*
 * Look the packet up (@fib's query fields are filled; @flags: extra
 * BPF_FIB_LOOKUP_* flags, the mark; @cfg_flags: the interface's) and decide how it leaves, per @mode:
 *   REDIRECT  SUCCESS -> REDIRECT
 *   PEER      SUCCESS -> PEER when the egress is peer-capable, else REDIRECT
 *   NEIGH     lookup with SKIP_NEIGH -> NEIGH (the neighbour need not exist;
 *             a kernel without SKIP_NEIGH: SUCCESS or NO_NEIGH -> NEIGH)
 *   AUTO      as PEER: SUCCESS -> PEER or REDIRECT; NO_NEIGH -> the stack
 * or a pass reason.  @l3_len/@ttl feed the checks of tcaccel_fib_post().
 *
 * Kernel behaviour relied on: with BPF_FIB_LOOKUP_SKIP_NEIGH the lookup
 * returns SUCCESS without touching the neighbour table; without it, a next
 * hop with no valid neighbour entry returns NO_NEIGH.  GSO packets get their
 * segments checked in tcaccel_fib_post() on every path.
 *
 * Why AUTO leaves an unresolved next hop to the stack rather than to
 * bpf_redirect_neigh(): when resolution fails, the neighbour layer reports
 * it through the packet's route (arp_error_report() -> dst_link_failure()),
 * and the kernel's forwarding answers the sender with ICMP host /
 * address unreachable; a packet redirected from tc ingress has no route, so
 * it would be dropped without a word (found by the wire oracle,
 * tests/lib/wirediff.py).  NEIGH mode makes that trade on purpose.
 */
static __always_inline __u32 tcaccel_fib_forward(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
						 __u32 mode, __u32 flags, __u32 cfg_flags,
						 __u32 l3_len, __u8 ttl)
{
	bool neigh = mode == TCACCEL_MODE_NEIGH;
	__u32 reason;
	long rc;

	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), flags | tcaccel_fib_skip_neigh(neigh, cfg_flags));
	/* A kernel without SKIP_NEIGH looked the neighbour up too: NEIGH takes both answers. */
	if (neigh && rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		rc = BPF_FIB_LKUP_RET_SUCCESS;
	reason = tcaccel_fib_reason(rc);
	if (reason != TCACCEL_GO_ON)
		return reason;
	reason = tcaccel_fib_post(skb, fib, l3_len, ttl);
	if (reason != TCACCEL_GO_ON)
		return reason;
	if (neigh)
		return TCACCEL_NEIGH;
	if ((mode == TCACCEL_MODE_PEER || mode == TCACCEL_MODE_AUTO) &&
	    tcaccel_peer_capable(fib->ifindex))
		return TCACCEL_PEER;
	return TCACCEL_REDIRECT;
}

/*
 * The plain-redirect path writes the MACs from the neighbour entry the FIB
 * found and hands the packet to the device: the neighbour layer never sees
 * it, so its state machine never runs for that next hop.  The kernel's own
 * forwarding goes through neigh_output() for every packet, which moves a
 * STALE entry to DELAY and then PROBE (unicast ARP/ND to the cached MAC),
 * and to FAILED when nobody answers - so a neighbour whose MAC changed is
 * found again.  Without it a STALE entry would be used forever.  So every
 * TCACCEL_NH_JIFFIES per (egress, next hop) and CPU, the packet leaves
 * through the neighbour layer instead (bpf_redirect_neigh(): same device,
 * same queue, the same MACs as long as the entry is valid): the state
 * machine runs as it would for the kernel's forwarding, at a lower rate.
 * Returns true when this packet is the one.  (PEER needs none of it: a
 * packet redirected to the peer keeps the pkt_type of its arrival, so the
 * container's stack never looks at its destination MAC.)
 *
 * Jiffies, not nanoseconds: bpf_jiffies64() is a load, bpf_ktime_get_ns()
 * reads the clock source on every packet.  256 jiffies are 1.02 s at
 * Debian's HZ=250, 0.26 s at HZ=1000, 2.6 s at HZ=100: all well inside the
 * neighbour's reachable time (15-45 s), which is what the rate must beat.
 */
#define TCACCEL_NH_JIFFIES 256

static __always_inline bool tcaccel_nh_due(const struct bpf_fib_lookup *fib)
{
	__u32 a0 = fib->ipv4_dst, a1 = 0, a2 = 0, a3 = 0, idx;
	struct tcaccel_nh_slot *s;
	__u64 now = bpf_jiffies64();

	if (fib->family != AF_INET) {
		a0 = fib->ipv6_dst[0];
		a1 = fib->ipv6_dst[1];
		a2 = fib->ipv6_dst[2];
		a3 = fib->ipv6_dst[3];
	}
	idx = ((a0 ^ a1 ^ a2 ^ a3 ^ fib->ifindex) * 0x9e3779b1u) >> 16 & (TCACCEL_NH_SLOTS - 1);
	s = bpf_map_lookup_elem(&tcaccel_nh, &idx);
	if (!s)
		return true;
	if (s->ifindex == fib->ifindex && s->family == fib->family && s->addr[0] == a0 &&
	    s->addr[1] == a1 && s->addr[2] == a2 && s->addr[3] == a3 &&
	    now - s->when < TCACCEL_NH_JIFFIES)
		return false;
	s->ifindex = fib->ifindex;
	s->family = fib->family;
	s->addr[0] = a0;
	s->addr[1] = a1;
	s->addr[2] = a2;
	s->addr[3] = a3;
	s->when = now;
	return true;
}

/*
 * The IPsec policy guard: could one of the netns's xfrm policies (fwd or
 * out) match a packet from @src to @dst (@len bytes of address)?  Their
 * selectors' source and destination prefixes are in two LPM tries (maps.h);
 * both must match for the stack to get the packet - a superset of what the
 * policies themselves match, which is what it must be.  bpf_fib_lookup()
 * knows nothing of xfrm, and redirect skips the policy checks
 * (xfrm4_policy_check() in ip_forward(), xfrm_lookup() on output).
 */
static __always_inline bool tcaccel_xfrm_match(__u32 family, const void *src, const void *dst,
					       __u32 len)
{
	struct tcaccel_prefix k = { .prefixlen = 32 + len * 8, .family = bpf_htonl(family) };

	__builtin_memcpy(k.addr, src, len);
	if (!bpf_map_lookup_elem(&tcaccel_xfrm_src, &k))
		return false;
	__builtin_memcpy(k.addr, dst, len);
	return bpf_map_lookup_elem(&tcaccel_xfrm_dst, &k) != NULL;
}

static __always_inline bool tcaccel_is_forward(__u32 reason)
{
	return reason == TCACCEL_REDIRECT || reason == TCACCEL_PEER || reason == TCACCEL_NEIGH ||
	       reason == TCACCEL_NAT_REDIRECT || reason == TCACCEL_NAT_PEER || reason == TCACCEL_NAT_NEIGH;
}

/*
 * Rewrite both MACs from the FIB result (the neighbour entry).  Not for
 * NEIGH: bpf_redirect_neigh() has the neighbour layer write them.
 */
static __always_inline void tcaccel_l2_rewrite(struct ethhdr *eth, const struct bpf_fib_lookup *fib)
{
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

#endif /* TCACCEL_FIB_H */

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
 *   - tot_len = 0 for a GSO packet: its length is the whole super-packet,
 *     which would always fail; tcaccel_fib_post() checks its segments.
 * Not visible to BPF: an IPv4 route MTU that is not locked (`ip route ...
 * mtu N` without `lock`), which ip_forward() honours but the FIB helper
 * does not; such routes need `mtu lock N` to be honoured on the fast path.
 */
#ifndef TCACCEL_FIB_H
#define TCACCEL_FIB_H

#include "common.h"
#include "maps.h"
#include "reasons.h"

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
	 * A GSO packet passed the FIB's is_skb_forwardable(), which lets any
	 * GSO packet through; ip_forward()/ip6_forward() check every segment
	 * against the egress MTU (skb_gso_validate_network_len()), so a packet
	 * GRO built from 9000-byte frames does not leave through a 1500-byte
	 * link.  bpf_check_mtu() with BPF_MTU_CHK_SEGS makes that same check.
	 * (Plain packets were checked by the FIB itself: see tot_len above.)
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
 * bpf_redirect_peer() works only towards a veth (or netkit) whose peer is in
 * another netns and up; anything else the kernel drops (skb_do_redirect()).
 * The scripts keep the list of such devices in tcaccel_peers.
 */
static __always_inline bool tcaccel_peer_capable(__u32 ifindex)
{
	return bpf_map_lookup_elem(&tcaccel_peers, &ifindex) != NULL;
}

/*
 * Look the packet up (@fib's query fields are filled) and decide how it
 * leaves, per @mode:
 *   REDIRECT  SUCCESS -> REDIRECT
 *   PEER      SUCCESS -> PEER when the egress is peer-capable, else REDIRECT
 *   NEIGH     lookup with SKIP_NEIGH -> NEIGH (the neighbour need not exist)
 *   AUTO      SUCCESS -> PEER or REDIRECT as PEER does; NO_NEIGH -> NEIGH
 * or a pass reason.  @l3_len/@ttl feed the checks of tcaccel_fib_post().
 *
 * Kernel behaviour relied on: with BPF_FIB_LOOKUP_SKIP_NEIGH the lookup
 * returns SUCCESS without touching the neighbour table; without it, a next
 * hop with no valid neighbour entry returns NO_NEIGH.  Either way the
 * egress ifindex and the next hop (gateway, or the destination itself, in
 * ipv4_dst/ipv6_dst) are filled in first, and a plain packet's tot_len has
 * already been checked against the route's MTU (see tot_len above), so AUTO
 * can take a NO_NEIGH answer straight to bpf_redirect_neigh().  GSO packets
 * get their segments checked in tcaccel_fib_post() on every path.
 */
static __always_inline __u32 tcaccel_fib_forward(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
						 __u32 mode, __u32 l3_len, __u8 ttl)
{
	bool neigh = mode == TCACCEL_MODE_NEIGH;
	__u32 reason;
	long rc;

	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), neigh ? BPF_FIB_LOOKUP_SKIP_NEIGH : 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH && mode == TCACCEL_MODE_AUTO) {
		neigh = true;
		rc = BPF_FIB_LKUP_RET_SUCCESS;
	}
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

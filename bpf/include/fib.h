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
#include "reasons.h"

static __always_inline __u32 tcaccel_fib_reason(long rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:		return TCACCEL_REDIRECT;
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
 * Checks every family shares once the FIB said SUCCESS.
 * @l3_len: the IP packet length from its header; @ttl: TTL or hop limit.
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
	return TCACCEL_REDIRECT;
}

/* Rewrite both MACs from the FIB result (the neighbour entry). */
static __always_inline void tcaccel_l2_rewrite(struct ethhdr *eth, const struct bpf_fib_lookup *fib)
{
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

#endif /* TCACCEL_FIB_H */

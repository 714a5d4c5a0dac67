/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fib.h - ask the kernel's FIB where a packet goes, and name the answer.
 *
 * bpf_fib_lookup() runs the same route (and, for SUCCESS, neighbour)
 * lookup as the forwarding path.  We call it with:
 *   - ifindex = the ingress device, so ip rules with iif and the
 *     per-device forwarding sysctl apply (FWD_DISABLED otherwise);
 *   - tot_len = 0: the kernel then checks the egress MTU against the skb
 *     itself, GSO-aware (is_skb_forwardable()).  Setting tot_len would
 *     make every GSO TCP super-packet fail with FRAG_NEEDED.
 */
#ifndef TCACCEL_FIB_H
#define TCACCEL_FIB_H

#include "common.h"
#include "maps.h"
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
static __always_inline __u32 tcaccel_fib_post(const struct __sk_buff *skb,
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
	 * is_skb_forwardable() allows mtu + hard_header_len + VLAN_HLEN, four
	 * bytes more than IP forwarding does; be exact for non-GSO packets.
	 * mtu_result shares tot_len's slot and is filled because tot_len == 0.
	 */
	if (!skb->gso_size && l3_len > fib->mtu_result)
		return TCACCEL_FIB_FRAG_NEEDED;
	return TCACCEL_REDIRECT;
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
 * returns SUCCESS without touching the neighbour table, with the next hop
 * (gateway, or the destination itself) in ipv4_dst/ipv6_dst and the MTU
 * checked; a plain lookup that finds no neighbour returns NO_NEIGH *before*
 * the MTU check, so AUTO asks once more with SKIP_NEIGH in that (rare) case.
 */
static __always_inline __u32 tcaccel_fib_forward(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
						 __u32 mode, __u32 l3_len, __u8 ttl)
{
	struct bpf_fib_lookup query = *fib;
	bool neigh = mode == TCACCEL_MODE_NEIGH;
	__u32 reason;
	long rc;

	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), neigh ? BPF_FIB_LOOKUP_SKIP_NEIGH : 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH && mode == TCACCEL_MODE_AUTO) {
		*fib = query;
		neigh = true;
		rc = bpf_fib_lookup(skb, fib, sizeof(*fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	}
	reason = tcaccel_fib_reason(rc);
	if (reason != TCACCEL_REDIRECT)
		return reason;
	reason = tcaccel_fib_post(skb, fib, l3_len, ttl);
	if (reason != TCACCEL_REDIRECT)
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
	return reason == TCACCEL_REDIRECT || reason == TCACCEL_PEER || reason == TCACCEL_NEIGH;
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

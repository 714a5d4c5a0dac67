/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipv4.h - decide whether an IPv4 packet can skip the stack, and prepare it.
 *
 * The principle: forward only what ip_rcv() + ip_forward() would forward
 * unchanged.  Anything they would drop, answer with ICMP, or treat
 * specially goes to the stack untouched, so the kernel's decision and its
 * counters stay exactly what they would be without us.
 */
#ifndef TCACCEL_IPV4_H
#define TCACCEL_IPV4_H

#include "common.h"
#include "csum.h"
#include "fib.h"
#include "conntrack.h"
#include "maps.h"
#include "nat.h"
#include "parsing.h"

static __always_inline bool ipv4_is_multicast(__be32 a) { return (a & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000); }
static __always_inline bool ipv4_is_zeronet(__be32 a)   { return (a & bpf_htonl(0xff000000)) == 0; }
static __always_inline bool ipv4_is_loopback(__be32 a)  { return (a & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000); }

/*
 * The source check of ip_route_input_slow() -> fib_validate_source(), done
 * as the kernel's full check does it: look the *source* up as a
 * destination (ingress device as iif, no neighbour needed).
 *
 * rp_filter on: strict mode wants the answer to leave through the ingress
 * device, loose mode any unicast route at all.  (Multipath routes: only the
 * chosen next hop is compared.)  Without this, spoofed sources the stack
 * would drop are forwarded.
 *
 * rp_filter off: the kernel still drops a packet whose source is one of this
 * namespace's own addresses (inet_lookup_ifaddr_rcu(): a martian source,
 * unless accept_local).  Such a source answers RTN_LOCAL, i.e. NOT_FWDED;
 * so do broadcast addresses and sources with no route at all, which the
 * kernel may forward: all of them go to the stack, which decides.
 */
static __always_inline __u32 tcaccel_ipv4_src_check(struct __sk_buff *skb, const struct iphdr *iph,
						    __be32 daddr, __u32 cfg_flags)
{
	struct bpf_fib_lookup rev = {};
	long rc;

	rev.family = AF_INET;
	rev.tos = iph->tos;
	rev.ipv4_src = daddr;	/* after DNAT: the kernel routes after PREROUTING */
	rev.ipv4_dst = iph->saddr;
	rev.ifindex = skb->ingress_ifindex;
	/* A non-zero tot_len skips the skb-vs-MTU check (not ours to make here). */
	rev.tot_len = sizeof(*iph);
	rc = bpf_fib_lookup(skb, &rev, sizeof(rev), tcaccel_fib_skip_neigh(true, cfg_flags));
	if (cfg_flags & (TCACCEL_F_RPF_STRICT | TCACCEL_F_RPF_LOOSE)) {
		if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
			return TCACCEL_RPF_FAILED;
		if ((cfg_flags & TCACCEL_F_RPF_STRICT) && rev.ifindex != skb->ingress_ifindex)
			return TCACCEL_RPF_FAILED;
		return TCACCEL_GO_ON;
	}
	if (rc == BPF_FIB_LKUP_RET_NOT_FWDED)
		return TCACCEL_MARTIAN;
	return TCACCEL_GO_ON;
}

/*
 * From the FIB lookup on: where the packet goes, the checks on that answer,
 * and (forwarded) the rewrite.  @g: the firewall gate's findings (g->on 0:
 * no gate).  A flow conntrack NATs is decided by its entry first and looked
 * up in the FIB with its translated destination (a DNATed or de-masqueraded
 * packet is addressed to this host before translation); every other packet
 * meets the gate's verdict after the FIB and the source check, as before
 * NAT existed.  @flags: bpf_fib_lookup() flags (BPF_FIB_LOOKUP_MARK).
 */
static __always_inline __u32 tcaccel_ipv4_route(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
						const struct tcaccel_cfg *cfg, const struct tcaccel_gate *g,
						__u32 flags, __u32 tot_len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	bool nat = g->on && g->nat_entry;
	__u32 reason, check;
	__be32 daddr;

	if ((void *)(iph + 1) > data_end)
		return TCACCEL_TRUNCATED;
	daddr = iph->daddr;
	if (nat) {
		if (g->verdict != TCACCEL_GO_ON)
			return g->verdict;
		if (g->nat & TCACCEL_NAT_DST) {
			daddr = g->to.dst[0];
			fib->ipv4_dst = daddr;
			fib->dport = g->to.dport;
		}
	}
	reason = tcaccel_fib_forward(skb, fib, cfg->mode, flags, cfg->flags, tot_len, iph->ttl);
	if (!tcaccel_is_forward(reason))
		return reason;
	/* IPsec policies see the packet before and (forward) after DNAT: either may match. */
	if ((cfg->flags & TCACCEL_F_XFRM) &&
	    (tcaccel_xfrm_match(AF_INET, &iph->saddr, &iph->daddr, sizeof(iph->daddr)) ||
	     (nat && tcaccel_xfrm_match(AF_INET, &g->to.src[0], &g->to.dst[0], sizeof(iph->daddr)))))
		return TCACCEL_XFRM_POLICY;
	/* The source, as fib_validate_source() sees it (rp_filter, own address). */
	check = tcaccel_ipv4_src_check(skb, iph, daddr, cfg->flags);
	if (check != TCACCEL_GO_ON)
		return check;
	check = tcaccel_gate_apply(skb, g, iph->protocol, fib->ifindex, &reason);
	if (check != TCACCEL_GO_ON)
		return check;
	if (nat) {
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		eth = data;
		iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > data_end)
			return reason;	/* cannot happen: the rewrite checked it */
	}

	ipv4_decrease_ttl(iph);
	if (reason != TCACCEL_NEIGH && reason != TCACCEL_NAT_NEIGH)
		tcaccel_l2_rewrite(eth, fib);
	return reason;
}

/*
 * Returns a forward reason (REDIRECT, PEER, NEIGH, or their NAT_ twins:
 * see tcaccel_fib_forward(), nat.h) with @fib filled and the packet
 * rewritten (NAT as conntrack decided it; TTL - 1 with the checksum fixed;
 * MACs from the FIB unless NEIGH), or a pass reason with the packet bytes
 * untouched.
 */
static __always_inline __u32 tcaccel_ipv4(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
					  const struct tcaccel_cfg *cfg)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct tcaccel_gate g = {};
	__u32 tot_len, reason, flags = 0;

	if ((void *)(iph + 1) > data_end)
		return TCACCEL_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return TCACCEL_BAD_HEADER;
	if (iph->ihl != 5)
		return TCACCEL_IP_OPTIONS;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < sizeof(*iph))
		return TCACCEL_BAD_HEADER;
	/* Trailing Ethernet padding is fine; a frame shorter than tot_len is not. */
	if (tot_len > skb->len - sizeof(*eth))
		return TCACCEL_TRUNCATED;
	if (!ipv4_csum_ok(iph))
		return TCACCEL_BAD_CSUM;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return TCACCEL_FRAGMENT;
	if (ipv4_is_multicast(iph->daddr) || iph->daddr == bpf_htonl(0xffffffff))
		return TCACCEL_MULTICAST;
	/* ip_route_input_slow()'s martian checks (route_localnet aside). */
	if (ipv4_is_multicast(iph->saddr) || iph->saddr == bpf_htonl(0xffffffff) ||
	    ipv4_is_zeronet(iph->saddr) || ipv4_is_loopback(iph->saddr) ||
	    ipv4_is_zeronet(iph->daddr) || ipv4_is_loopback(iph->daddr))
		return TCACCEL_MARTIAN;

	/*
	 * Policy routing by mark (ip rule fwmark): the lookup must see the
	 * mark where the netns has such rules.  Kernels before 6.10 cannot
	 * look up by mark: a marked packet goes to the stack there.  (Marks
	 * netfilter would set in PREROUTING never exist here: `load` refuses
	 * to accelerate a netns whose rules feed fwmark routing.)
	 */
	if (unlikely(skb->mark) && (cfg->flags & TCACCEL_F_MARK_RULES)) {
		if (!(cfg->flags & TCACCEL_F_FIB_MARK))
			return TCACCEL_POLICY_MARK;
		flags |= BPF_FIB_LOOKUP_MARK;
		tcaccel_fib_set_mark(fib, skb->mark);
	}
	fib->family = AF_INET;
	fib->tos = iph->tos;
	fib->l4_protocol = iph->protocol;
	/* see fib.h: tot_len */
	fib->tot_len = skb->gso_size ? tcaccel_gso_seglen(skb, iph + 1, data_end, iph->protocol,
							  sizeof(*iph)) : tot_len;
	fib->ipv4_src = iph->saddr;
	fib->ipv4_dst = iph->daddr;
	fib->ifindex = skb->ingress_ifindex;
	tcaccel_l4_ports(iph + 1, data_end, iph->protocol, fib);

	if (cfg->flags & TCACCEL_F_CT_GATE) {
		struct bpf_sock_tuple tuple = {};

		tuple.ipv4.saddr = iph->saddr;
		tuple.ipv4.daddr = iph->daddr;
		tuple.ipv4.sport = fib->sport;
		tuple.ipv4.dport = fib->dport;
		tcaccel_gate_open(skb, &g, &tuple, sizeof(tuple.ipv4), iph->protocol,
				  tcaccel_tcp_flags(iph + 1, data_end, iph->protocol),
				  tot_len - sizeof(*iph));
	}
	reason = tcaccel_ipv4_route(skb, fib, cfg, &g, flags, tot_len);
	tcaccel_gate_close(&g, tcaccel_is_forward(reason),
			   (g.tcp ? cfg->ct_timeout_tcp : cfg->ct_timeout_udp) * 1000);
	return reason;
}

#endif /* TCACCEL_IPV4_H */

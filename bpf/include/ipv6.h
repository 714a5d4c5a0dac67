/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipv6.h - the IPv6 twin of ipv4.h: forward only what ipv6_rcv() +
 * ip6_forward() would forward unchanged, hand the rest to the stack.
 */
#ifndef TCACCEL_IPV6_H
#define TCACCEL_IPV6_H

#include "common.h"
#include "csum.h"
#include "conntrack.h"
#include "fib.h"
#include "nat.h"
#include "parsing.h"

/*
 * IANA's IPv6 extension header numbers.  Hop-by-hop options must be
 * processed by every router; the others we leave to the stack too rather
 * than walk a header chain in BPF.
 */
static __always_inline bool ipv6_is_exthdr(__u8 nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:	/* 0 */
	case IPPROTO_ROUTING:	/* 43 */
	case IPPROTO_FRAGMENT:	/* 44 */
	case IPPROTO_ESP:	/* 50 */
	case IPPROTO_AH:	/* 51 */
	case IPPROTO_DSTOPTS:	/* 60 */
	case 135:		/* Mobility */
	case 139:		/* HIP */
	case 140:		/* Shim6 */
	case 253:		/* experimental */
	case 254:		/* experimental */
		return true;
	}
	return false;
}

static __always_inline bool ipv6_is_any(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2] | a->s6_addr32[3]);
}

static __always_inline bool ipv6_is_loopback(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2]) &&
	       a->s6_addr32[3] == bpf_htonl(1);
}

static __always_inline bool ipv6_is_multicast(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

static __always_inline bool ipv6_is_linklocal(const struct in6_addr *a)
{
	return (a->s6_addr32[0] & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000);
}

static __always_inline bool ipv6_is_v4mapped(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1]) && a->s6_addr32[2] == bpf_htonl(0xffff);
}

/* The second half of tcaccel_ipv6(), as tcaccel_ipv4_route() for IPv4. */
static __always_inline __u32 tcaccel_ipv6_route(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
						const struct tcaccel_cfg *cfg, const struct tcaccel_gate *g,
						__u32 flags, __u32 l3_len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	bool nat = g->on && g->nat_entry;
	__u32 reason, check;

	if ((void *)(ip6h + 1) > data_end)
		return TCACCEL_TRUNCATED;
	if (nat) {
		if (g->verdict != TCACCEL_GO_ON)
			return g->verdict;
		if (g->nat & TCACCEL_NAT_DST) {
			__builtin_memcpy(fib->ipv6_dst, g->to.dst, sizeof(fib->ipv6_dst));
			fib->dport = g->to.dport;
		}
	}
	reason = tcaccel_fib_forward(skb, fib, cfg->mode, flags, cfg->flags, l3_len, ip6h->hop_limit);
	if (!tcaccel_is_forward(reason))
		return reason;
	/*
	 * ip6_forward() forwards only when net.ipv6.conf.all.forwarding is on
	 * (or, from 6.17, the ingress device has force_forwarding), while the
	 * FIB helper checks the ingress device's own forwarding flag: `load`
	 * reads what the kernel reads.
	 */
	if (cfg->flags & TCACCEL_F_NO_FWD6)
		return TCACCEL_FIB_FWD_DISABLED;
	/* IPsec policies see the packet before and (forward) after DNAT: either may match. */
	if ((cfg->flags & TCACCEL_F_XFRM) &&
	    (tcaccel_xfrm_match(AF_INET6, &ip6h->saddr, &ip6h->daddr, sizeof(ip6h->daddr)) ||
	     (nat && tcaccel_xfrm_match(AF_INET6, g->to.src, g->to.dst, sizeof(ip6h->daddr)))))
		return TCACCEL_XFRM_POLICY;
	check = tcaccel_gate_apply(skb, g, ip6h->nexthdr, fib->ifindex, &reason);
	if (check != TCACCEL_GO_ON)
		return check;
	if (nat) {
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		eth = data;
		ip6h = (void *)(eth + 1);
		if ((void *)(ip6h + 1) > data_end)
			return reason;	/* cannot happen: the rewrite checked it */
	}

	ipv6_decrease_hop_limit(skb, ip6h);
	if (reason != TCACCEL_NEIGH && reason != TCACCEL_NAT_NEIGH)
		tcaccel_l2_rewrite(eth, fib);
	return reason;
}

/* Same contract as tcaccel_ipv4().  (No rp_filter for IPv6 in the kernel.) */
static __always_inline __u32 tcaccel_ipv6(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
					  const struct tcaccel_cfg *cfg)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	struct tcaccel_gate g = {};
	__u32 l3_len, reason, flags = 0;

	if ((void *)(ip6h + 1) > data_end)
		return TCACCEL_TRUNCATED;
	if (ip6h->version != 6)
		return TCACCEL_BAD_HEADER;
	l3_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if (l3_len > skb->len - sizeof(*eth))
		return TCACCEL_TRUNCATED;
	if (ipv6_is_exthdr(ip6h->nexthdr))
		return TCACCEL_IPV6_EXTHDR;
	if (ipv6_is_multicast(&ip6h->daddr))
		return TCACCEL_MULTICAST;
	/* ipv6_rcv() and ip6_forward() refuse these; so let them. */
	if (ipv6_is_multicast(&ip6h->saddr) || ipv6_is_loopback(&ip6h->saddr) ||
	    ipv6_is_any(&ip6h->saddr) || ipv6_is_linklocal(&ip6h->saddr) ||
	    ipv6_is_v4mapped(&ip6h->saddr) ||
	    ipv6_is_loopback(&ip6h->daddr) || ipv6_is_any(&ip6h->daddr) ||
	    ipv6_is_linklocal(&ip6h->daddr))
		return TCACCEL_MARTIAN;

	/* As for IPv4 (ipv4.h): fwmark rules. */
	if (unlikely(skb->mark) && (cfg->flags & TCACCEL_F_MARK_RULES)) {
		if (!(cfg->flags & TCACCEL_F_FIB_MARK))
			return TCACCEL_POLICY_MARK;
		flags |= BPF_FIB_LOOKUP_MARK;
		tcaccel_fib_set_mark(fib, skb->mark);
	}
	fib->family = AF_INET6;
	fib->flowinfo = *(__be32 *)ip6h & bpf_htonl(0x0fffffff);
	fib->l4_protocol = ip6h->nexthdr;
	/* see fib.h: tot_len */
	fib->tot_len = skb->gso_size ? tcaccel_gso_seglen(skb, ip6h + 1, data_end, ip6h->nexthdr,
							  sizeof(*ip6h)) : l3_len;
	__builtin_memcpy(fib->ipv6_src, &ip6h->saddr, sizeof(fib->ipv6_src));
	__builtin_memcpy(fib->ipv6_dst, &ip6h->daddr, sizeof(fib->ipv6_dst));
	fib->ifindex = skb->ingress_ifindex;
	tcaccel_l4_ports(ip6h + 1, data_end, ip6h->nexthdr, fib);

	if (cfg->flags & TCACCEL_F_CT_GATE) {
		struct bpf_sock_tuple tuple = {};

		__builtin_memcpy(tuple.ipv6.saddr, &ip6h->saddr, sizeof(tuple.ipv6.saddr));
		__builtin_memcpy(tuple.ipv6.daddr, &ip6h->daddr, sizeof(tuple.ipv6.daddr));
		tuple.ipv6.sport = fib->sport;
		tuple.ipv6.dport = fib->dport;
		tcaccel_gate_open(skb, &g, &tuple, sizeof(tuple.ipv6), ip6h->nexthdr,
				  tcaccel_tcp_flags(ip6h + 1, data_end, ip6h->nexthdr),
				  l3_len - sizeof(*ip6h));
	}
	reason = tcaccel_ipv6_route(skb, fib, cfg, &g, flags, l3_len);
	tcaccel_gate_close(&g, tcaccel_is_forward(reason),
			   (g.tcp ? cfg->ct_timeout_tcp : cfg->ct_timeout_udp) * 1000);
	return reason;
}

#endif /* TCACCEL_IPV6_H */

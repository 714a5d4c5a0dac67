// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 1 - kernel forwarding vs redirect (solution).
 *
 * At tc ingress: plain IPv4 goes to the FIB (bpf_fib_lookup); when the FIB
 * names a next hop, the frame is rewritten and handed straight to the
 * egress device (bpf_redirect).  The router's IP stack never sees it:
 * IpForwDatagrams does not move.  Everything else: TC_ACT_UNSPEC, the
 * kernel does what it always does.
 */
#include "lesson.h"
#include "rewrite.h"
#include "counters.h"

SEC("tc")
int fwd(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth;
	struct iphdr *ip;
	long rc;

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if (!parse_ipv4(skb, &eth, &ip))
		return count(PASSED, TC_ACT_UNSPEC);

	/* The question the kernel's ip_route_input() asks, from the headers. */
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;	/* the interface it arrived on */

	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return count(PASSED, TC_ACT_UNSPEC);	/* local, no route, no neighbour...: the kernel's job */

	rewrite(eth, ip, &fib);
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 2 - MAC rewrite and TTL.  Your file: README.md says what to do;
 * `make check` tells you whether it works.
 *
 * This is the naive fast path: ask the FIB, redirect.  The pings stop
 * working.  Find out why (the check shows what the server receives), then
 * make rewrite() do what a router does to a frame it forwards.
 *
 * From ../common/: parse_ipv4() and fib_lookup_ipv4() (lesson.h), count()
 * (counters.h).  Not rewrite.h: that is this lesson's solution.
 */
#include "lesson.h"
#include "counters.h"

/*
 * What a router does to a frame it forwards.  The FIB's answer has what you
 * need: fib->smac is the MAC of our egress port, fib->dmac the next hop's
 * (from the neighbour table).
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	/*
	 * TODO 1: the frame still carries the MACs of the link it came in on
	 * (client -> router).  Put the next link's in eth->h_dest and
	 * eth->h_source (__builtin_memcpy, ETH_ALEN bytes).
	 *
	 * TODO 2: decrement ip->ttl, and update ip->check to match without
	 * summing the whole header again: RFC 1624, or the kernel's
	 * ip_decrease_ttl() in include/net/ip.h.
	 *
	 * Remove these three lines when you use the arguments:
	 */
	(void)eth;
	(void)ip;
	(void)fib;
}

SEC("tc")
int mac_ttl(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib;
	struct ethhdr *eth;
	struct iphdr *ip;

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if (!parse_ipv4(skb, &eth, &ip))
		return count(PASSED, TC_ACT_UNSPEC);
	if (fib_lookup_ipv4(skb, ip, &fib) != BPF_FIB_LKUP_RET_SUCCESS)
		return count(PASSED, TC_ACT_UNSPEC);	/* local, no route, no neighbour...: the kernel's job */

	rewrite(eth, ip, &fib);
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 4 - bpf_redirect_neigh() out of a container.  Your file:
 * README.md says what to do; `make check` tells you whether it works.
 *
 * Attached to the container's host-side veth (veth-c1) ingress: packets
 * from the container to the LAN.  This is lesson 2's fast path.  It works,
 * except for the first packet to a next hop whose MAC the node does not
 * know yet: the FIB answers NO_NEIGH, and that packet takes the kernel's
 * slow path.
 *
 * From ../common/: parse_ipv4(), fib_lookup_ipv4() (lesson.h), rewrite()
 * and ip_ttl_dec() (rewrite.h, lesson 2), count() (counters.h).
 */
#include "lesson.h"
#include "rewrite.h"
#include "counters.h"

SEC("tc")
int neigh(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib;
	struct ethhdr *eth;
	struct iphdr *ip;
	long rc;

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if (!parse_ipv4(skb, &eth, &ip))
		return count(PASSED, TC_ACT_UNSPEC);

	rc = fib_lookup_ipv4(skb, ip, &fib);
	/*
	 * TODO: NO_NEIGH (no MAC for the next hop yet) goes to the kernel here.
	 * Let the kernel's neighbour code do the MACs instead, on the egress
	 * device, for SUCCESS and NO_NEIGH alike: bpf_redirect_neigh().  (On
	 * NO_NEIGH, fib.ifindex is still the egress device.)  The TTL is still
	 * yours to decrement: ip_ttl_dec(ip).
	 */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return count(PASSED, TC_ACT_UNSPEC);	/* local, no route, no neighbour...: the kernel's job */

	rewrite(eth, ip, &fib);
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 4 - bpf_redirect_neigh() out of a container (solution).
 *
 * Attached to the container's host-side veth (veth-c1) ingress: packets
 * from the container to the LAN.  bpf_redirect() needs the next hop's MAC
 * from the FIB answer; when the neighbour table has none yet the FIB says
 * NO_NEIGH and the packet must take the kernel's slow path, which resolves
 * it.  bpf_redirect_neigh() lets the kernel's neighbour code fill in both
 * MACs on the egress device - resolving the neighbour (ARP/ND) when it is
 * missing, queueing the packet meanwhile - so even the first packet to a
 * new next hop takes the fast path (kernel >= 5.10, tc only).
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
	/* NO_NEIGH still names the egress device: the neighbour code resolves it. */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(PASSED, TC_ACT_UNSPEC);	/* local, no route...: the kernel's job */

	ip_ttl_dec(ip);	/* the MACs are the neighbour code's now; the TTL is still ours */
	/* MACs from the neighbour table, resolved if needed (NULL: the kernel
	 * looks the next hop up again; struct bpf_redir_neigh would pass it). */
	return count(REDIRECTED, bpf_redirect_neigh(fib.ifindex, NULL, 0, 0));
}

char _license[] SEC("license") = "GPL";

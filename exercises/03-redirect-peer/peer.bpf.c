// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 3 - bpf_redirect_peer() into a container.  Your file: README.md
 * says what to do; `make check` tells you whether it works.
 *
 * Attached to the node's uplink (eth0) ingress.  For a packet to a
 * container the FIB names the container's host-side veth (veth-c1).
 * bpf_redirect(veth-c1) would transmit on veth-c1, and the veth driver would
 * queue the packet to the container's eth0 through the per-CPU backlog: a
 * second trip into the stack.  bpf_redirect_peer(veth-c1) delivers it to
 * the *peer* of veth-c1 (the container's eth0) as if it had arrived there,
 * switching network namespace on the way (kernel >= 5.10, tc ingress only,
 * veth or netkit).
 *
 * From ../common/: parse_ipv4(), fib_lookup_ipv4() (lesson.h), rewrite()
 * (rewrite.h, lesson 2), count() (counters.h).
 */
#include "lesson.h"
#include "rewrite.h"
#include "counters.h"

SEC("tc")
int peer(struct __sk_buff *skb)
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
	/*
	 * TODO: this works, but takes the long way: it transmits on veth-c1,
	 * and the veth driver queues the packet to the container's eth0.
	 * Hand it to the container's eth0 ingress directly instead.
	 */
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

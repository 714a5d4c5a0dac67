// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 1 - kernel forwarding vs redirect.  Your file: README.md says
 * what to do; `make check` tells you whether it works.
 *
 * As it is, this program counts every packet and leaves it to the kernel
 * (TC_ACT_UNSPEC): the router's IP stack forwards it, and the router's
 * IpForwDatagrams counter grows.  Make it forward IPv4 itself.
 *
 * From ../common/: parse_ipv4() and the verdict note (lesson.h), rewrite()
 * (rewrite.h: lesson 2 is about it), count() and tcaccel_cnt (counters.h).
 */
#include "lesson.h"
#include "rewrite.h"
#include "counters.h"

SEC("tc")
int fwd(struct __sk_buff *skb)
{
	struct ethhdr *eth;
	struct iphdr *ip;

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if (!parse_ipv4(skb, &eth, &ip))
		return count(PASSED, TC_ACT_UNSPEC);

	/*
	 * TODO 1: ask the kernel's FIB where this packet goes.  Declare a
	 * struct bpf_fib_lookup (zeroed), fill in family (AF_INET), tos,
	 * l4_protocol, tot_len (host byte order), ipv4_src, ipv4_dst and the
	 * ifindex the packet arrived on (skb->ingress_ifindex), then call
	 * bpf_fib_lookup(skb, &fib, sizeof(fib), 0).
	 *
	 * TODO 2: when it returns BPF_FIB_LKUP_RET_SUCCESS, fib.ifindex is the
	 * egress device and fib.smac / fib.dmac the MACs for the next link:
	 * rewrite(eth, ip, &fib), then hand the packet to that device with
	 * bpf_redirect(fib.ifindex, 0), counted as REDIRECTED.  Any other
	 * answer: leave the packet to the kernel, as below.
	 */

	return count(PASSED, TC_ACT_UNSPEC);
}

char _license[] SEC("license") = "GPL";

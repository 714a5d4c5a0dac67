// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 2 - MAC rewrite and TTL (solution).
 *
 * bpf_redirect() sends the frame exactly as it is.  A router must change
 * three things on the way: the destination MAC (the next hop's), the
 * source MAC (its own egress port's), and the TTL (one less, so a routing
 * loop ends), with the IPv4 header checksum updated to match.  From lesson
 * 3 on, this rewrite() comes from ../common/rewrite.h.
 */
#include "lesson.h"
#include "counters.h"

/*
 * What a router does to a frame it forwards: new MACs for the next link
 * (the FIB answer carries them: smac = our egress port, dmac = the next
 * hop's, from the neighbour table), TTL - 1 and the checksum to match.
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	__u32 check = ip->check;

	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	/*
	 * The kernel's ip_decrease_ttl(): the checksum is the ones' complement
	 * of the ones' complement sum of the header's 16-bit words.  TTL is the
	 * high byte of its word, so TTL - 1 lowers the sum by 0x0100 and raises
	 * the checksum by 0x0100, with the end-around carry folded back in
	 * (RFC 1624).  No need to sum the whole header again.
	 */
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
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

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rewrite.h - lesson 2's solution, for the lessons that forward with
 * bpf_redirect() after it (1, 3, 5) and for lesson 4's TTL: what a router
 * changes in every frame it forwards.  Lesson 2 does not include it: there
 * you write rewrite() yourself.
 *
 * Contract: same as lesson.h (header-only, static __always_inline, UAPI
 * only).  These functions write the packet: pass only headers that
 * parse_ipv4() returned, before any helper that may move packet data.
 */
#ifndef EX_REWRITE_H
#define EX_REWRITE_H

#include "lesson.h"

/*
 * ip_ttl_dec() - TTL - 1, and the IPv4 header checksum to match: the
 * kernel's ip_decrease_ttl() (include/net/ip.h).
 *
 * Lesson: the checksum is the ones' complement of the ones' complement sum
 * of the header's 16-bit words.  TTL is the high byte of its word, so
 * TTL - 1 lowers the sum by 0x0100 and raises the checksum by 0x0100, with
 * the end-around carry folded back in (RFC 1624).  No need to sum the
 * whole header again.
 */
static __always_inline void ip_ttl_dec(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

/*
 * rewrite() - new MACs for the next link, from the FIB's answer (smac: our
 * egress port's, dmac: the next hop's, from the neighbour table), and
 * ip_ttl_dec().  bpf_redirect() sends the frame exactly as it is: without
 * this, the next hop drops it as meant for another host.
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	ip_ttl_dec(ip);
}

#endif /* EX_REWRITE_H */

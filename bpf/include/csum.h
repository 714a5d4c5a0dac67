/* SPDX-License-Identifier: GPL-2.0 */
/*
 * csum.h - IPv4 header checksum check and TTL / hop-limit decrement.
 *
 * bpf_redirect() hands the packet to the egress device directly, so the
 * kernel's ip_forward()/ip6_forward() never run: nobody decrements the
 * TTL unless we do.  Forgetting it is the classic bug of naive redirect
 * programs (the far end sees TTL 64, traceroute shows no hop, loops live
 * forever).
 */
#ifndef TCACCEL_CSUM_H
#define TCACCEL_CSUM_H

#include "common.h"

/*
 * True when the 20-byte IPv4 header sums to 0xffff (RFC 1071), i.e. its
 * checksum is right.  ip_rcv() drops packets that fail this; so do we, by
 * handing them to it.  Ten 16-bit adds beat a bpf_csum_diff() call.
 * Caller has checked iph + 1 <= data_end and ihl == 5.
 */
static __always_inline bool ipv4_csum_ok(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The kernel's ip_decrease_ttl(): TTL is the high byte of a 16-bit word,
 * so the one's-complement checksum changes by +0x0100 (RFC 1624), with
 * the end-around carry folded back in.
 */
static __always_inline void ipv4_decrease_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xffff));
	iph->ttl--;
}

/*
 * IPv6 has no header checksum, but a packet that arrived with
 * CHECKSUM_COMPLETE carries skb->csum, the one's-complement sum of
 * everything after the Ethernet header, and it covers the hop limit: the
 * receiver (a veth's peer keeps ip_summed) would find it wrong and fall
 * back to a software checksum, or log "hw csum failure" when the sum came
 * from hardware.  ip6_forward() avoids it by dropping COMPLETE
 * (skb_forward_csum()); a BPF program cannot, so add the change:
 * bpf_csum_update() does nothing when ip_summed is not COMPLETE.  (IPv4's
 * TTL and header checksum change together and leave the sum as it was.)
 */
static __always_inline void ipv6_decrease_hop_limit(struct __sk_buff *skb, struct ipv6hdr *ip6h)
{
	__u16 *w = (__u16 *)&ip6h->nexthdr;	/* next header and hop limit */
	__u16 old = *w;

	ip6h->hop_limit--;
	bpf_csum_update(skb, (__u32)(__u16)~old + (__u32)*w);
}

#endif /* TCACCEL_CSUM_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp_dport.h - for the tests' stand-ins for somebody else's tc filter
 * (drop_udp9999.bpf.c, mark_udp9998.bpf.c): is this frame UDP to a port?
 *
 * Contract: header-only, static __always_inline, UAPI + bpf_helpers.h.
 * Reads the packet, never writes it; may call bpf_skb_pull_data() (which
 * changes no byte, but invalidates packet pointers the caller loaded
 * before).  IPv4 without options and IPv6 without extension headers only;
 * anything else is "no".
 */
#ifndef TESTS_UDP_DPORT_H
#define TESTS_UDP_DPORT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* 1 when skb is an Ethernet frame carrying UDP to @port (host order), else 0. */
static __always_inline int udp_to_port(struct __sk_buff *skb, __u16 port)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct udphdr *udp;
	__u8 proto;

	/* Headers in the linear data, whatever the sender did (AF_PACKET, GRO). */
	bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(struct ipv6hdr) + sizeof(*udp));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return 0;
		proto = iph->protocol;
		udp = (void *)(iph + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		proto = ip6h->nexthdr;
		udp = (void *)(ip6h + 1);
	} else {
		return 0;
	}
	return proto == IPPROTO_UDP && (void *)(udp + 1) <= data_end && udp->dest == bpf_htons(port);
}

#endif /* TESTS_UDP_DPORT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * drop_udp9999.bpf.c - somebody else's tc filter, for the tests: drops UDP
 * to port 9999 (IPv4 and IPv6 without extension headers), has no opinion
 * on anything else (TC_ACT_UNSPEC: the next filter decides).  The kernel
 * here has no gact ("action drop"), so this stands in for a user's drop
 * rule on the same ingress hook as tcaccel:
 *
 *   tc filter add dev X ingress pref 10 bpf da obj build/tests/drop_udp9999.bpf.o sec tc
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DROP_PORT 9999

SEC("tc")
int drop_udp9999(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct udphdr *udp;
	__u8 proto;

	bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(struct ipv6hdr) + sizeof(*udp));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return TC_ACT_UNSPEC;
		proto = iph->protocol;
		udp = (void *)(iph + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return TC_ACT_UNSPEC;
		proto = ip6h->nexthdr;
		udp = (void *)(ip6h + 1);
	} else {
		return TC_ACT_UNSPEC;
	}
	if (proto != IPPROTO_UDP || (void *)(udp + 1) > data_end)
		return TC_ACT_UNSPEC;
	return udp->dest == bpf_htons(DROP_PORT) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

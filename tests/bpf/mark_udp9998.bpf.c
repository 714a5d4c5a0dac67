// SPDX-License-Identifier: GPL-2.0
/*
 * mark_udp9998.bpf.c - somebody else's tc filter, for the tests: sets
 * skb->mark = 7 on UDP to port 9998 (IPv4 and IPv6 without extension
 * headers) and has no opinion on anything (TC_ACT_UNSPEC: the next filter
 * runs).  Stands in for `action skbedit mark 7`, which this kernel lacks,
 * in front of tcaccel on the same ingress hook: fwmark ip rules must see
 * the mark.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MARK_PORT 9998
#define MARK 7

SEC("tc")
int mark_udp9998(struct __sk_buff *skb)
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
	if (proto == IPPROTO_UDP && (void *)(udp + 1) <= data_end && udp->dest == bpf_htons(MARK_PORT))
		skb->mark = MARK;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

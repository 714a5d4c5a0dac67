// SPDX-License-Identifier: GPL-2.0
/*
 * parts.bpf.c - what each part of a FIB forwarder costs on this machine,
 * for `make bench`: the same 60-byte IPv4 frame is run through each of
 * these with `bpftool prog run ... repeat N` inside a router lab, next to
 * tcaccel's own program, and each is reported as a ratio to part_empty.
 * Every program is cumulative (each one does what the one before did and a
 * little more), so the differences are the parts' costs:
 *
 *   part_empty     nothing: the call and return (the floor)
 *   part_parse     bpf_skb_pull_data() and the Ethernet + IPv4 header
 *   part_fib       + one bpf_fib_lookup() of the packet (plain, as the
 *                  redirect path asks it)
 *   part_redirect  + TTL (and its header checksum) and MACs rewritten,
 *                  bpf_redirect(): the least a FIB forwarder does (no
 *                  checks at all)
 *   part_fib2      part_fib + the reverse lookup of the source check
 *                  (ipv4.h: fib_validate_source()), with SKIP_NEIGH as
 *                  tcaccel asks it (plainly on a kernel without the flag)
 *
 * None of these is safe to attach: they are measured, never loaded on a
 * hook (the bench loads them with `bpftool prog loadall`).  The frame's TTL
 * must outlast the repeats: prog run reuses one skb, so the TTL falls.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PART_AF_INET 2
#define PART_SKIP_NEIGH (1U << 2)	/* BPF_FIB_LOOKUP_SKIP_NEIGH (6.3) */

static __always_inline struct iphdr *part_ip(struct __sk_buff *skb)
{
	struct ethhdr *eth;
	struct iphdr *iph;

	bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(*iph));
	eth = (void *)(long)skb->data;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > (void *)(long)skb->data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return NULL;
	return iph;
}

static __always_inline long part_lookup(struct __sk_buff *skb, const struct iphdr *iph,
					struct bpf_fib_lookup *fib)
{
	fib->family = PART_AF_INET;
	fib->tos = iph->tos;
	fib->l4_protocol = iph->protocol;
	fib->tot_len = bpf_ntohs(iph->tot_len);
	fib->ipv4_src = iph->saddr;
	fib->ipv4_dst = iph->daddr;
	fib->ifindex = skb->ingress_ifindex;
	return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

SEC("tc")
int part_empty(struct __sk_buff *skb __attribute__((unused)))
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int part_parse(struct __sk_buff *skb)
{
	struct iphdr *iph = part_ip(skb);

	return iph && iph->ttl > 1 ? TC_ACT_UNSPEC : TC_ACT_OK;
}

SEC("tc")
int part_fib(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	struct iphdr *iph = part_ip(skb);

	if (!iph)
		return TC_ACT_OK;
	return part_lookup(skb, iph, &fib) == BPF_FIB_LKUP_RET_SUCCESS ? TC_ACT_UNSPEC : TC_ACT_OK;
}

SEC("tc")
int part_redirect(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	struct iphdr *iph = part_ip(skb);
	struct ethhdr *eth;
	__u32 check;

	if (!iph || part_lookup(skb, iph, &fib) != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	eth = (void *)(long)skb->data;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	/* as ip_decrease_ttl(): TTL - 1, the checksum + 0x0100 with carry */
	check = (__u32)iph->check + bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xFFFF));
	iph->ttl--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return bpf_redirect(fib.ifindex, 0);
}

SEC("tc")
int part_fib2(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {}, rev = {};
	struct iphdr *iph = part_ip(skb);
	long rc;

	if (!iph || part_lookup(skb, iph, &fib) != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	rev.family = PART_AF_INET;
	rev.ipv4_src = iph->daddr;
	rev.ipv4_dst = iph->saddr;
	rev.tot_len = sizeof(*iph);
	rev.ifindex = skb->ingress_ifindex;
	rc = bpf_fib_lookup(skb, &rev, sizeof(rev), PART_SKIP_NEIGH);
	if (rc < 0)	/* -EINVAL: a kernel without SKIP_NEIGH */
		rc = bpf_fib_lookup(skb, &rev, sizeof(rev), 0);
	return rc == BPF_FIB_LKUP_RET_SUCCESS ? TC_ACT_UNSPEC : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

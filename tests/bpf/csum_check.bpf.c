// SPDX-License-Identifier: GPL-2.0
/*
 * csum_check.bpf.c - a checker for the tests, at a receiver's tc ingress:
 * for the 118-byte frames (an IPv6 packet of 104 bytes) that arrive with
 * CHECKSUM_COMPLETE, is skb->csum still the sum of the packet?
 *
 * skb->csum of a COMPLETE skb is the one's-complement sum of everything
 * after the Ethernet header (eth_type_trans() pulled it out of the sum).
 * bpf_csum_update(skb, 0) returns it for COMPLETE and -ENOTSUPP otherwise;
 * bpf_csum_diff() sums the bytes.  Counts, in csum_check_stats (pinned by
 * name): [0] frames seen, [1] COMPLETE, [2] COMPLETE and matching,
 * [3] COMPLETE and wrong.  Always TC_ACT_UNSPEC.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define L3_LEN 104

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} csum_check_stats SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&csum_check_stats, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

SEC("tc")
int csum_check(struct __sk_buff *skb)
{
	void *data, *data_end;
	long have, sum;

	if (skb->len != ETH_HLEN + L3_LEN)
		return TC_ACT_UNSPEC;
	count(0);
	have = bpf_csum_update(skb, 0);
	if (have < 0)
		return TC_ACT_UNSPEC;
	count(1);
	bpf_skb_pull_data(skb, ETH_HLEN + L3_LEN);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + L3_LEN > data_end)
		return TC_ACT_UNSPEC;
	sum = bpf_csum_diff(NULL, 0, data + ETH_HLEN, L3_LEN, 0);
	if (sum < 0)
		return TC_ACT_UNSPEC;
	/* 0 and 0xffff are the same number in one's complement */
	count((fold((__u64)sum) % 0xffff) == (fold((__u64)(__u32)have) % 0xffff) ? 2 : 3);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

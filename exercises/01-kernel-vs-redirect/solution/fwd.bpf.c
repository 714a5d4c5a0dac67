// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 1 - kernel forwarding vs redirect (solution).
 *
 * At tc ingress: plain IPv4 goes to the FIB (bpf_fib_lookup); when the FIB
 * names a next hop, the frame is rewritten and handed straight to the
 * egress device (bpf_redirect).  The router's IP stack never sees it:
 * IpForwDatagrams does not move.  Everything else: TC_ACT_OK, the kernel
 * does what it always does.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

/* Two counters the check reads: [0] passed to the kernel, [1] redirected. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tcaccel_cnt SEC(".maps");

enum { PASSED = 0, REDIRECTED = 1 };

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&tcaccel_cnt, &what);

	if (c)
		__sync_fetch_and_add(c, 1);
	return verdict;
}

/*
 * What a router does to a frame it forwards (lesson 2 is about it): new
 * MACs for the next link, TTL - 1 and the header checksum to match.
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	__u32 check = ip->check;

	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	/* The kernel's ip_decrease_ttl(): RFC 1624 incremental update. */
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

SEC("tc")
int fwd(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct bpf_fib_lookup fib = {};
	long rc;

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if ((void *)(ip + 1) > data_end)
		return count(PASSED, TC_ACT_OK);
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->ttl <= 1)
		return count(PASSED, TC_ACT_OK);

	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;

	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return count(PASSED, TC_ACT_OK);	/* local, no route, no neighbour...: the kernel's job */

	rewrite(eth, ip, &fib);
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

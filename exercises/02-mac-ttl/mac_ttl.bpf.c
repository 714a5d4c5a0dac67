// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 2 - MAC rewrite and TTL.  Your file: README.md says what to do;
 * `make check` tells you whether it works.
 *
 * This is the naive fast path: ask the FIB, redirect.  The pings stop
 * working.  Find out why (the check shows what the server receives), then
 * make rewrite() do what a router does to a frame it forwards.
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
 * What a router does to a frame it forwards.  The FIB's answer has what you
 * need: fib->smac is the MAC of our egress port, fib->dmac the next hop's
 * (from the neighbour table).
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	/*
	 * TODO 1: the frame still carries the MACs of the link it came in on
	 * (client -> router).  Put the next link's in eth->h_dest and
	 * eth->h_source (__builtin_memcpy, ETH_ALEN bytes).
	 *
	 * TODO 2: decrement ip->ttl, and update ip->check to match without
	 * summing the whole header again: RFC 1624, or the kernel's
	 * ip_decrease_ttl() in include/net/ip.h.
	 *
	 * Remove these three lines when you use the arguments:
	 */
	(void)eth;
	(void)ip;
	(void)fib;
}

SEC("tc")
int mac_ttl(struct __sk_buff *skb)
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

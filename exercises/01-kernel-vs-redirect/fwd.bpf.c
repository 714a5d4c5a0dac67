// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 1 - kernel forwarding vs redirect.  Your file: README.md says
 * what to do; `make check` tells you whether it works.
 *
 * As it is, this program counts every packet and hands it back to the
 * kernel (TC_ACT_OK): the router's IP stack forwards it, and the router's
 * IpForwDatagrams counter grows.  Make it forward IPv4 itself.
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
 * ("unused" keeps the compiler quiet until you call it.)
 */
static __always_inline __attribute__((unused)) void rewrite(struct ethhdr *eth, struct iphdr *ip,
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

	/* Only plain IPv4 a router may forward; the rest goes to the kernel. */
	if ((void *)(ip + 1) > data_end)
		return count(PASSED, TC_ACT_OK);
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->ttl <= 1)
		return count(PASSED, TC_ACT_OK);

	/*
	 * TODO 1: ask the kernel's FIB where this packet goes.  Declare a
	 * struct bpf_fib_lookup (zeroed), fill in family (AF_INET), tos,
	 * l4_protocol, tot_len (host byte order), ipv4_src, ipv4_dst and the
	 * ifindex the packet arrived on (skb->ingress_ifindex), then call
	 * bpf_fib_lookup(skb, &fib, sizeof(fib), 0).
	 *
	 * TODO 2: when it returns BPF_FIB_LKUP_RET_SUCCESS, fib.ifindex is the
	 * egress device and fib.smac / fib.dmac the MACs for the next link:
	 * rewrite(eth, ip, &fib), then hand the packet to that device with
	 * bpf_redirect(fib.ifindex, 0), counted as REDIRECTED.  Any other
	 * answer: leave the packet to the kernel, as below.
	 */

	return count(PASSED, TC_ACT_OK);
}

char _license[] SEC("license") = "GPL";

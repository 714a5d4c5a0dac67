// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 4 - bpf_redirect_neigh() out of a container.  Your file:
 * README.md says what to do; `make check` tells you whether it works.
 *
 * Attached to the container's host-side veth (veth-c1) ingress: packets
 * from the container to the LAN.  This is lesson 2's fast path.  It works,
 * except for the first packet to a next hop whose MAC the node does not
 * know yet: the FIB answers NO_NEIGH, and that packet takes the kernel's
 * slow path.
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
 * What a router does to a frame it forwards: new MACs for the next link
 * (the FIB answer carries them: smac = our egress port, dmac = the next
 * hop's, from the neighbour table), TTL - 1 and the checksum to match.
 */
static __always_inline void rewrite(struct ethhdr *eth, struct iphdr *ip,
				    const struct bpf_fib_lookup *fib)
{
	__u32 check = ip->check;

	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	/*
	 * The kernel's ip_decrease_ttl(): the checksum is the ones' complement
	 * of the ones' complement sum of the header's 16-bit words.  TTL is the
	 * high byte of its word, so TTL - 1 lowers the sum by 0x0100 and raises
	 * the checksum by 0x0100, with the end-around carry folded back in
	 * (RFC 1624).  No need to sum the whole header again.
	 */
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

SEC("tc")
int neigh(struct __sk_buff *skb)
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
	/*
	 * TODO: NO_NEIGH (no MAC for the next hop yet) goes to the kernel here.
	 * Let the kernel's neighbour code do the MACs instead, on the egress
	 * device, for SUCCESS and NO_NEIGH alike: bpf_redirect_neigh().  (On
	 * NO_NEIGH, fib.ifindex is still the egress device.)  The TTL is still
	 * yours to decrement.
	 */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return count(PASSED, TC_ACT_OK);	/* local, no route, no neighbour...: the kernel's job */

	rewrite(eth, ip, &fib);
	return count(REDIRECTED, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 4 - bpf_redirect_neigh() out of a container (solution).
 *
 * Attached to the container's host-side veth (veth-c1) ingress: packets
 * from the container to the LAN.  bpf_redirect() needs the next hop's MAC
 * from the FIB answer; when the neighbour table has none yet the FIB says
 * NO_NEIGH and the packet must take the kernel's slow path, which resolves
 * it.  bpf_redirect_neigh() lets the kernel's neighbour code fill in both
 * MACs on the egress device - resolving the neighbour (ARP/ND) when it is
 * missing, queueing the packet meanwhile - so even the first packet to a
 * new next hop takes the fast path (kernel >= 5.10, tc only).
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

/* TTL - 1 and the checksum to match (lesson 2). */
static __always_inline void ttl_dec(struct iphdr *ip)
{
	__u32 check = ip->check;

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
	/* NO_NEIGH still names the egress device: the neighbour code resolves it. */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(PASSED, TC_ACT_OK);	/* local, no route...: the kernel's job */

	ttl_dec(ip);
	/* MACs from the neighbour table, resolved if needed (NULL: the kernel
	 * looks the next hop up again; struct bpf_redir_neigh would pass it). */
	return count(REDIRECTED, bpf_redirect_neigh(fib.ifindex, NULL, 0, 0));
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 5 - debugging with trace_pipe and counters (solution).
 *
 * Lesson 2's fast path, instrumented: every decision is counted by reason
 * in tcaccel_why (read it with bpftool) and printed with bpf_printk (read
 * it from /sys/kernel/tracing/trace_pipe).  The bug was in the EtherType
 * test: eth->h_proto is in network byte order (big endian), ETH_P_IP is a
 * host-order constant; on a little-endian CPU 0x0800 reads as 0x0008.
 * bpf_htons(ETH_P_IP) turns the constant around at compile time.
 *
 * From ../common/: fib_lookup_ipv4() (lesson.h) and rewrite() (rewrite.h,
 * lesson 2).  The tests of the frame are written out here, each decision
 * with a reason of its own, and the counters are this lesson's own map.
 */
#include "lesson.h"
#include "rewrite.h"

/* Why a packet went where it went: one counter each, in tcaccel_why. */
enum reason { R_REDIRECT, R_SHORT, R_NOT_IPV4, R_NOT_PLAIN, R_FIB, R_MAX };

static const char reason_names[R_MAX][12] = {
	[R_REDIRECT] = "REDIRECT", [R_SHORT] = "SHORT", [R_NOT_IPV4] = "NOT_IPV4",
	[R_NOT_PLAIN] = "NOT_PLAIN", [R_FIB] = "FIB",
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, R_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tcaccel_why SEC(".maps");

/*
 * Count the decision, print it, return the verdict.  bpf_printk() lines go
 * to the kernel's one trace buffer: fine for a lab, too costly for every
 * packet in production (tcaccel prints only when its debug flag is set).
 */
static __always_inline int why(const struct __sk_buff *skb, __u32 reason, __u32 detail, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&tcaccel_why, &reason);

	if (c)
		__sync_fetch_and_add(c, 1);
	if (reason < R_MAX)
		bpf_printk("ex5: if=%u %s detail=0x%x", skb->ingress_ifindex, reason_names[reason], detail);
	return verdict;
}

SEC("tc")
int debug(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct bpf_fib_lookup fib;
	long rc;

	if ((void *)(ip + 1) > data_end)
		return why(skb, R_SHORT, skb->len, TC_ACT_UNSPEC);
	/* detail: the EtherType as this program reads it */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return why(skb, R_NOT_IPV4, eth->h_proto, TC_ACT_UNSPEC);
	if (ip->ihl != 5 || ip->ttl <= 1)
		return why(skb, R_NOT_PLAIN, ip->ttl, TC_ACT_UNSPEC);

	rc = fib_lookup_ipv4(skb, ip, &fib);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return why(skb, R_FIB, rc, TC_ACT_UNSPEC);	/* detail: BPF_FIB_LKUP_RET_* */

	rewrite(eth, ip, &fib);
	return why(skb, R_REDIRECT, fib.ifindex, bpf_redirect(fib.ifindex, 0));	/* detail: egress */
}

char _license[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lesson.h - what every tc lesson's program (lessons 1-5) starts from:
 * the headers, "is this plain IPv4 a router may forward?", and the FIB
 * question.  Your lesson file includes it (`#include "lesson.h"`; the
 * lesson's Makefile passes -I to this directory) and holds only what the
 * lesson is about.
 *
 * Contract, as in xdp-tutorial's common/parsing_helpers.h:
 *  - header-only: every function is static __always_inline, so each
 *    lesson's object stays one program with no BPF-to-BPF calls, and the
 *    verifier sees the packet pointers these functions return exactly as
 *    if the lesson had written the code in place;
 *  - UAPI headers and libbpf's bpf_helpers.h/bpf_endian.h only (no
 *    vmlinux.h): what you read here is what the kernel's ABI promises;
 *  - nothing here writes the packet, defines a map or decides a verdict:
 *    that is each lesson's own part (rewrite.h and counters.h, next to
 *    this file, hold the pieces that do, for the lessons that reuse them).
 *
 * Lesson: the verdict for "not mine, kernel carry on" is TC_ACT_UNSPEC,
 * not TC_ACT_OK.  The lessons attach with `tc filter ... bpf da` (direct
 * action: the program's return value is the verdict).  cls_bpf moves on to
 * the next filter on the hook only on TC_ACT_UNSPEC (-1); TC_ACT_OK (0)
 * ends classification there, so every filter behind yours - somebody's
 * firewall rule, say - would silently stop running.  With no filter behind,
 * both let the packet into the stack; only UNSPEC is a good neighbour.
 * (tcx, kernel 6.6, calls the same value TCX_NEXT.)
 */
#ifndef EX_LESSON_H
#define EX_LESSON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* From <sys/socket.h>, which is not a UAPI header. */
#define AF_INET 2

/*
 * parse_ipv4() - is the frame plain IPv4 a router may forward: an Ethernet
 * header, IPv4 without options (ihl 5, so the header is 20 bytes) and a TTL
 * above 1?  Returns 1 and points *eth and *ip at the two headers, or 0 (the
 * frame is not ours: leave it to the kernel).
 *
 * Lesson: the verifier refuses any packet access it cannot prove lies
 * between skb->data and skb->data_end.  One test, "is the end of the IPv4
 * header within the data?", proves it for every byte of both headers; on
 * 1 the caller may read and write those 34 bytes and nothing beyond.
 * A frame with TTL 1 is not ours either: the kernel must answer it with
 * ICMP "time exceeded" (that is how traceroute works).
 */
static __always_inline int parse_ipv4(const struct __sk_buff *skb, struct ethhdr **eth,
				      struct iphdr **ip)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *e = data;
	struct iphdr *h = data + sizeof(*e);

	if ((void *)(h + 1) > data_end)
		return 0;
	if (e->h_proto != bpf_htons(ETH_P_IP) || h->ihl != 5 || h->ttl <= 1)
		return 0;
	*eth = e;
	*ip = h;
	return 1;
}

/*
 * fib_lookup_ipv4() - lesson 1's TODO 1, for the lessons after it: ask the
 * kernel's FIB where @ip goes, as the kernel's forwarding path would for a
 * packet that arrived on skb->ingress_ifindex.  Fills in all of *fib and
 * returns bpf_fib_lookup()'s answer, BPF_FIB_LKUP_RET_*.  On SUCCESS
 * fib->ifindex is the egress device and fib->smac / fib->dmac the MACs for
 * the next link; on NO_NEIGH fib->ifindex is still the egress device (the
 * next hop's MAC is not known yet).
 */
static __always_inline long fib_lookup_ipv4(struct __sk_buff *skb, const struct iphdr *ip,
					    struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->tos = ip->tos;
	fib->l4_protocol = ip->protocol;
	fib->tot_len = bpf_ntohs(ip->tot_len);	/* host byte order, for the MTU check */
	fib->ipv4_src = ip->saddr;
	fib->ipv4_dst = ip->daddr;
	fib->ifindex = skb->ingress_ifindex;
	return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

#endif /* EX_LESSON_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * mark_udp9998.bpf.c - somebody else's tc filter, for the tests: sets
 * skb->mark = 7 on UDP to port 9998 (IPv4 and IPv6 without extension
 * headers) and has no opinion on anything (TC_ACT_UNSPEC: the next filter
 * runs).  Stands in for `action skbedit mark 7`, which this kernel lacks,
 * in front of tcaccel on the same ingress hook: fwmark ip rules must see
 * the mark.
 */
#include "udp_dport.h"

#define MARK_PORT 9998
#define MARK 7

SEC("tc")
int mark_udp9998(struct __sk_buff *skb)
{
	if (udp_to_port(skb, MARK_PORT))
		skb->mark = MARK;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

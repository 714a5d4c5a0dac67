// SPDX-License-Identifier: GPL-2.0
/*
 * drop_udp9999.bpf.c - somebody else's tc filter, for the tests: drops UDP
 * to port 9999 (IPv4 and IPv6 without extension headers), has no opinion
 * on anything else (TC_ACT_UNSPEC: the next filter decides).  The kernel
 * here has no gact ("action drop"), so this stands in for a user's drop
 * rule on the same ingress hook as tcaccel:
 *
 *   tc filter add dev X ingress pref 10 bpf da obj build/tests/drop_udp9999.bpf.o sec tc
 */
#include "udp_dport.h"

#define DROP_PORT 9999

SEC("tc")
int drop_udp9999(struct __sk_buff *skb)
{
	return udp_to_port(skb, DROP_PORT) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

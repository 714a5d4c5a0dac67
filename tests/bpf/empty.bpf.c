// SPDX-License-Identifier: GPL-2.0
/*
 * empty.bpf.c - the floor for `make bench`: a tc program that has no
 * opinion on anything (TC_ACT_UNSPEC: the kernel forwards as without it).
 * What it costs per packet is what any tc ingress program costs here (the
 * hook, the call, bpf_stats' own clock reads); the bench reports tcaccel's
 * cost as a ratio to it, measured in the same run:
 *
 *   tc filter replace dev X ingress pref P handle H bpf da obj build/tests/empty.bpf.o sec tc
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tcaccel_empty(struct __sk_buff *skb __attribute__((unused)))
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parsing.h - make the headers readable, and classify what we cannot take.
 *
 * Contract: every function here does its own bounds check against
 * skb->data_end and never writes the packet.  After any helper that may
 * move packet data (bpf_skb_pull_data), pointers must be loaded again
 * from skb->data - the verifier enforces it.
 */
#ifndef TCACCEL_PARSING_H
#define TCACCEL_PARSING_H

#include "common.h"
#include "reasons.h"

/*
 * Ethernet + the IP header + the first 20 bytes of L4 (ports, and the TCP
 * flags the firewall gate reads): everything we ever read, per family.
 */
#define TCACCEL_PULL_LEN4 (sizeof(struct ethhdr) + sizeof(struct iphdr) + 20)
#define TCACCEL_PULL_LEN6 (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + 20)

/*
 * Make the headers we read linear (or the whole frame, if shorter): the
 * family's length, by the frame's own EtherType - what tcaccel_l2_check()
 * parses, not skb->protocol, which a filter before ours may have left
 * stale (a decap without BPF_F_ADJ_ROOM_DECAP_L3_*).  Anything but IPv6
 * gets IPv4's; the L2 check passes what is not IP.  The Ethernet header
 * itself is always linear at tc ingress (eth_type_trans() pulled it).
 *
 * Kernel behaviour relied on: direct packet access only reaches the
 * linear part of the skb (data..data_end).  Most drivers and veth give
 * us all headers there, but packets sent from an AF_PACKET TX ring
 * (trafgen) and some GRO'd skbs arrive with only the 14-byte Ethernet
 * header linear.  Without this pull the fast path silently never fires
 * for them.  bpf_skb_pull_data() changes no byte of the packet.
 *
 * No TCP payload, ever: a TCP socket's skb has exactly its headers linear
 * (IPv4 with timestamps: 14 + 20 + 32 = 66; IPv6: 86) and the payload in
 * page frags.  Pulling payload into the head (as one length for both
 * families, IPv6's 74, did for IPv4) reallocates the head with kmalloc,
 * and the receiver's TCP can then never coalesce that skb into the one
 * before it (skb_try_coalesce(): a head that is not a page frag is
 * "locked"): the server's TcpExtTCPRcvCoalesce fell to 0 (20 MB; kernel
 * forwarding: 85% of the segments).  A UDP GSO skb (8-byte header) still
 * gets up to 12 bytes of payload pulled: its receiver segments it, nothing
 * coalesces there.
 */
static __always_inline void tcaccel_pull(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 want = TCACCEL_PULL_LEN4;

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6))
		want = TCACCEL_PULL_LEN6;
	if (data + want <= data_end)
		return;
	if (want > skb->len)
		want = skb->len;
	/* A failure here leaves the headers short: callers see TRUNCATED. */
	bpf_skb_pull_data(skb, want);
}

/*
 * L2 gate: only frames addressed to this host, untagged, carrying IP.
 * Returns TCACCEL_GO_ON or the pass reason.
 *
 * Kernel behaviour relied on: __netif_receive_skb_core() strips an outer
 * VLAN tag into skb->vlan_tci *before* tc ingress runs, so a tagged frame
 * shows up here as untagged IP with vlan_present set; an inner (QinQ) tag
 * stays in the data.  Either way the packet belongs to a VLAN device and
 * the stack must see it.
 */
static __always_inline __u32 tcaccel_l2_check(const struct __sk_buff *skb, __u16 *proto)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return TCACCEL_TRUNCATED;
	*proto = eth->h_proto;
	if (skb->vlan_present || eth->h_proto == bpf_htons(ETH_P_8021Q) ||
	    eth->h_proto == bpf_htons(ETH_P_8021AD))
		return TCACCEL_VLAN;
	if (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6))
		return TCACCEL_NOT_IP;
	/* eth_type_trans() classified the destination MAC for us. */
	if (skb->pkt_type == PACKET_OTHERHOST)
		return TCACCEL_NOT_FOR_US;
	if (skb->pkt_type != PACKET_HOST)
		return TCACCEL_MULTICAST;
	return TCACCEL_GO_ON;
}

/* Copy TCP/UDP ports into the FIB query (for ECMP hashing and ip rules). */
static __always_inline void tcaccel_l4_ports(const void *l4, const void *data_end, __u8 proto,
					     struct bpf_fib_lookup *fib)
{
	const __be16 *ports = l4;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	if ((const void *)(ports + 2) > data_end)
		return;
	fib->sport = ports[0];
	fib->dport = ports[1];
}

/* The TCP flags byte, 0 when not TCP or not in the linear data. */
static __always_inline __u8 tcaccel_tcp_flags(const void *l4, const void *data_end, __u8 proto)
{
	const __u8 *p = l4;

	if (proto != IPPROTO_TCP || (const void *)(p + 14) > data_end)
		return 0;
	return p[13];
}

#endif /* TCACCEL_PARSING_H */

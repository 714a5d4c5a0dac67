/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nat.h - apply the translation conntrack already decided, as nf_nat would.
 *
 * On the slow path a NATed flow's established packets are rewritten by
 * nf_nat_inet_fn() -> nf_nat_packet() at PREROUTING (the DST manip) and at
 * POSTROUTING (the SRC manip).  The fast path skips both hooks, so it
 * applies both parts for the packet's direction itself, from the entry the
 * gate found (conntrack.h: tcaccel_gate_open() checked the entry and filled
 * g->to, g->nat):
 *
 *   - which parts: nf_nat_packet() takes IPS_SRC_NAT / IPS_DST_NAT, swapped
 *     for the reply direction (statusbit ^= IPS_NAT_MASK); here g->nat.
 *   - what to: nf_nat_manip_pkt() rewrites to the inverse of the other
 *     direction's tuple (nf_ct_invert_tuple(&target, &ct->tuplehash[!dir]));
 *     here g->to.  Never a mapping of our own: no entry, no translation.
 *   - how, IPv4 (nf_nat_ipv4_manip_pkt(), nf_nat_ipv4_csum_update(),
 *     l4proto manip): the address with csum_replace4() on the header
 *     checksum and inet_proto_csum_replace4(..., pseudohdr = true) on the
 *     TCP/UDP checksum; the port with inet_proto_csum_replace2(..., false).
 *     bpf_l4_csum_replace() is those same two functions (BPF_F_PSEUDO_HDR
 *     for the address), which is what makes CHECKSUM_PARTIAL packets (a
 *     local veth's GSO TCP, whose checksum field holds only the
 *     pseudo-header sum) right: for them only the address changes the
 *     field, the port does not.  UDP: udp_manip_pkt() leaves a checksum of
 *     0 (none, IPv4) alone and turns a result of 0 into CSUM_MANGLED_0;
 *     BPF_F_MARK_MANGLED_0 does both.
 *   - how, IPv6 (nf_nat_ipv6_manip_pkt()): no header checksum; the L4
 *     checksum with inet_proto_csum_replace16(), which since 5.5 leaves
 *     skb->csum of a CHECKSUM_COMPLETE packet alone (the address and the
 *     checksum field cancel out).  bpf_l4_csum_replace() with a diff still
 *     updates skb->csum on kernels before the BPF_F_IPV6 flag (6.16), so
 *     bpf_csum_update() takes that update back, on every kernel alike.
 *
 * The rewrite happens after every check passed (a pass leaves the bytes
 * unchanged): the FIB lookup already used the translated destination (a
 * DNATed packet is addressed to the node itself before translation), the
 * source check the original source (the kernel validates it at
 * PREROUTING's routing, after DNAT, before SNAT).  The translated packet
 * has the size of the original one: the FIB's MTU check holds.
 */
#ifndef TCACCEL_NAT_H
#define TCACCEL_NAT_H

#include "common.h"
#include "conntrack.h"
#include "reasons.h"

#define TCACCEL_L4_OFF4 (sizeof(struct ethhdr) + sizeof(struct iphdr))
#define TCACCEL_L4_OFF6 (sizeof(struct ethhdr) + sizeof(struct ipv6hdr))

/*
 * After the FIB chose the egress: a masquerade binding holds only while the
 * original direction leaves through the interface it was made on
 * (nf_nat_oif_changed(): otherwise the kernel kills the entry and drops
 * the packet).  TCACCEL_GO_ON or CT_NAT.
 */
static __always_inline __u32 tcaccel_nat_oif(const struct tcaccel_gate *g, __u32 egress)
{
	if (g->masq_ifindex && g->masq_ifindex != egress)
		return TCACCEL_CT_NAT;
	return TCACCEL_GO_ON;
}

/* The forward reason of a translated packet. */
static __always_inline __u32 tcaccel_nat_reason(__u32 reason)
{
	switch (reason) {
	case TCACCEL_PEER:	return TCACCEL_NAT_PEER;
	case TCACCEL_NEIGH:	return TCACCEL_NAT_NEIGH;
	default:		return TCACCEL_NAT_REDIRECT;
	}
}

/* csum_replace4(): RFC 1624 eqn. 3 for a 32-bit word of a header checksum. */
static __always_inline void tcaccel_csum_replace4(__sum16 *check, __be32 from, __be32 to)
{
	__u32 s = (__u16)~*check;

	s += (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*check = (__sum16)~s;
}

/*
 * The TCP/UDP checksum first, with the helpers (they may move packet data:
 * no packet pointer is held across them).  Returns 0, or < 0 when the
 * first one failed and nothing was written.  Once one succeeded the skb is
 * writable up to the checksum field (bpf_try_make_writable()) and the
 * others, at the same offset, cannot fail.
 */
static __always_inline int tcaccel_nat_l4_csum4(struct __sk_buff *skb, const struct tcaccel_gate *g,
						__u32 csum_off, __u64 mm0)
{
	long rc = 0;

	if ((g->nat & TCACCEL_NAT_SRC) && g->to.src[0] != g->pkt.src[0])
		rc |= bpf_l4_csum_replace(skb, csum_off, g->pkt.src[0], g->to.src[0],
					  BPF_F_PSEUDO_HDR | mm0 | sizeof(__be32));
	if (rc)
		return -1;
	if ((g->nat & TCACCEL_NAT_DST) && g->to.dst[0] != g->pkt.dst[0])
		rc |= bpf_l4_csum_replace(skb, csum_off, g->pkt.dst[0], g->to.dst[0],
					  BPF_F_PSEUDO_HDR | mm0 | sizeof(__be32));
	return rc ? -1 : 0;
}

static __always_inline int tcaccel_nat_l4_csum6(struct __sk_buff *skb, const struct tcaccel_gate *g,
						__u32 csum_off, __u64 mm0, bool has_csum)
{
	__be32 from[8], to[8];
	__s64 diff;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		from[i] = g->pkt.src[i];
		from[4 + i] = g->pkt.dst[i];
		to[i] = (g->nat & TCACCEL_NAT_SRC) ? g->to.src[i] : g->pkt.src[i];
		to[4 + i] = (g->nat & TCACCEL_NAT_DST) ? g->to.dst[i] : g->pkt.dst[i];
	}
	diff = bpf_csum_diff(from, sizeof(from), to, sizeof(to), 0);
	if (diff < 0)
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, 0, (__u32)diff, BPF_F_PSEUDO_HDR | mm0))
		return -1;
	/* inet_proto_csum_replace16() leaves skb->csum alone: take the helper's update back. */
	if (has_csum)
		bpf_csum_update(skb, (__u32)diff);
	return 0;
}

/*
 * Rewrite the packet to g->to (the parts g->nat names): L4 checksum,
 * ports, addresses, IPv4 header checksum.  @proto is TCP or UDP (the gate
 * took nothing else), the headers were checked and are linear (the
 * caller's pull covers the L4 checksum field).  Returns 0, or < 0 with the
 * packet unchanged.  Packet pointers are invalid afterwards.
 */
static __always_inline int tcaccel_nat_rewrite(struct __sk_buff *skb, const struct tcaccel_gate *g, __u8 proto)
{
	__u32 l4 = g->v6 ? TCACCEL_L4_OFF6 : TCACCEL_L4_OFF4;
	__u32 csum_off = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	__u64 mm0 = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	bool s = g->nat & TCACCEL_NAT_SRC, d = g->nat & TCACCEL_NAT_DST;
	void *data, *data_end;
	__be16 *ports, *check;
	bool has_csum;
	long rc = 0;

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	check = data + csum_off;
	if ((void *)(check + 1) > data_end)
		return -1;
	has_csum = proto == IPPROTO_TCP || *check != 0;

	if (g->v6)
		rc = tcaccel_nat_l4_csum6(skb, g, csum_off, mm0, has_csum);
	else
		rc = tcaccel_nat_l4_csum4(skb, g, csum_off, mm0);
	if (rc)
		return -1;
	if (s && g->to.sport != g->pkt.sport)
		bpf_l4_csum_replace(skb, csum_off, g->pkt.sport, g->to.sport, mm0 | sizeof(__be16));
	if (d && g->to.dport != g->pkt.dport)
		bpf_l4_csum_replace(skb, csum_off, g->pkt.dport, g->to.dport, mm0 | sizeof(__be16));

	/* The helpers may have moved the data: every pointer anew. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	ports = data + l4;
	if ((void *)(ports + 2) > data_end)
		return 0;	/* cannot happen: the length was checked before */
	if (s)
		ports[0] = g->to.sport;
	if (d)
		ports[1] = g->to.dport;
	if (g->v6) {
		struct ipv6hdr *ip6h = data + sizeof(struct ethhdr);

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		if (s)
			__builtin_memcpy(&ip6h->saddr, g->to.src, 16);
		if (d)
			__builtin_memcpy(&ip6h->daddr, g->to.dst, 16);
	} else {
		struct iphdr *iph = data + sizeof(struct ethhdr);

		if ((void *)(iph + 1) > data_end)
			return 0;
		if (s) {
			tcaccel_csum_replace4(&iph->check, iph->saddr, g->to.src[0]);
			iph->saddr = g->to.src[0];
		}
		if (d) {
			tcaccel_csum_replace4(&iph->check, iph->daddr, g->to.dst[0]);
			iph->daddr = g->to.dst[0];
		}
	}
	return 0;
}

/*
 * After the FIB and the source check (ipv4.h, ipv6.h): a flow conntrack
 * does not NAT meets the gate's verdict; a NATed one (its verdict came
 * before the FIB) is checked against its masquerade interface and
 * rewritten, and *reason becomes its NAT_ twin.  TCACCEL_GO_ON, or the
 * reason to pass.  Packet pointers must be loaded again afterwards.
 */
static __always_inline __u32 tcaccel_gate_apply(struct __sk_buff *skb, const struct tcaccel_gate *g,
						__u8 proto, __u32 egress, __u32 *reason)
{
	__u32 check;

	if (!g->on)
		return TCACCEL_GO_ON;
	if (!g->nat_entry)
		return g->verdict;
	check = tcaccel_nat_oif(g, egress);
	if (check != TCACCEL_GO_ON)
		return check;
	if (tcaccel_nat_rewrite(skb, g, proto))
		return TCACCEL_CT_NAT;
	*reason = tcaccel_nat_reason(*reason);
	return TCACCEL_GO_ON;
}

#endif /* TCACCEL_NAT_H */

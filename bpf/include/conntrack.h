/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conntrack.h - the firewall gate: accelerate only flows netfilter has
 * already accepted (tcaccel's `respect` mode; nftables flowtables make the
 * same trade).
 *
 * bpf_redirect() skips netfilter PREROUTING/FORWARD/POSTROUTING.  With the
 * gate on, a packet takes the fast path only when conntrack holds a
 * confirmed entry for its flow that has seen a reply: the flow's first
 * packets crossed the user's FORWARD rules, and a flow those rules drop
 * never gets that far.  Everything else goes to the stack.
 *
 * Conntrack never sees the fast path's packets, so its TCP window tracking
 * cannot follow the sequence numbers: a FIN after megabytes of fast-path
 * data is "out of window", INVALID, and dropped by the common
 * `ct state invalid drop`.  nftables flowtables mark offloaded flows so
 * conntrack relaxes that check; a tc program cannot, so `load` sets the
 * netns's nf_conntrack_tcp_be_liberal=1 in respect mode (restored on
 * unload).  Same trade: window checks are off for tracked TCP flows.
 *
 * Kernel interfaces relied on (net/netfilter/nf_conntrack_bpf.c, 6.0+):
 * the kfuncs below, callable from tc programs; the lookup takes a reference
 * that must be released.  They are resolved by libbpf against the kernel's
 * BTF (`__ksym`), as are the two nf_conn fields we read (CO-RE:
 * preserve_access_index) - no vmlinux.h needed.
 */
#ifndef TCACCEL_CONNTRACK_H
#define TCACCEL_CONNTRACK_H

#include "common.h"
#include "reasons.h"

/* Only the fields we use; libbpf relocates their offsets from kernel BTF. */
struct ip_ct_tcp {
	__u8 state;		/* enum tcp_conntrack */
} __attribute__((preserve_access_index));

union nf_conntrack_proto {
	struct ip_ct_tcp tcp;
} __attribute__((preserve_access_index));

struct nf_conn {
	__u32 timeout;
	unsigned long status;
	union nf_conntrack_proto proto;
} __attribute__((preserve_access_index));

#define TCACCEL_TCP_CONNTRACK_ESTABLISHED 3	/* enum tcp_conntrack */

/* UAPI-stable layout of the kfuncs' options (NF_BPF_CT_OPTS_SZ = 16). */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

#ifndef BPF_F_CURRENT_NETNS
#define BPF_F_CURRENT_NETNS (-1)
#endif

/* include/uapi/linux/netfilter/nf_conntrack_common.h */
#define TCACCEL_IPS_SEEN_REPLY	(1UL << 1)
#define TCACCEL_IPS_ASSURED	(1UL << 2)
#define TCACCEL_IPS_CONFIRMED	(1UL << 3)
#define TCACCEL_IPS_SRC_NAT	(1UL << 4)
#define TCACCEL_IPS_DST_NAT	(1UL << 5)

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *ct, __u32 timeout) __ksym;

/* TCP header flags byte (offset 13) bits we care about. */
#define TCACCEL_TCP_FIN 0x01
#define TCACCEL_TCP_SYN 0x02
#define TCACCEL_TCP_RST 0x04

/*
 * The gate.  @tuple holds the packet's addresses and ports (the caller
 * filled the family's part, @tuple_sz says which), @l4 points at the TCP or
 * UDP header (bounds checked for 14 bytes by the caller for TCP).
 * @timeout_ms: the established-flow timeout to refresh the entry with
 * (conntrack refreshes it per packet on the slow path; our packets never
 * reach it), 0 to leave it alone.
 * Returns TCACCEL_GO_ON or a CT_* pass reason.
 */
static __always_inline __u32 tcaccel_ct_gate(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					     __u32 tuple_sz, __u8 proto, __u8 tcp_flags,
					     __u32 timeout_ms)
{
	struct bpf_ct_opts opts = {
		.netns_id = BPF_F_CURRENT_NETNS,	/* the netns of skb->dev */
		.l4proto = proto,
	};
	unsigned long status;
	struct nf_conn *ct;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return TCACCEL_CT_PROTO;
	/*
	 * Connection setup and teardown must be seen by conntrack (and the
	 * rules): SYN, FIN and RST go the slow way.
	 */
	if (tcp_flags & (TCACCEL_TCP_SYN | TCACCEL_TCP_FIN | TCACCEL_TCP_RST))
		return TCACCEL_CT_TCP_CTRL;

	ct = bpf_skb_ct_lookup(skb, tuple, tuple_sz, &opts, sizeof(opts));
	if (!ct)
		return TCACCEL_CT_MISS;
	status = ct->status;
	/*
	 * Established: confirmed and answered.  For TCP also ASSURED, which
	 * conntrack sets when it sees the handshake's last ACK: until then its
	 * TCP state is SYN_RECV, and a FIN it later sees from that state, far
	 * beyond the sequence numbers it knows, is INVALID.
	 */
	if (!(status & TCACCEL_IPS_CONFIRMED) || !(status & TCACCEL_IPS_SEEN_REPLY) ||
	    (proto == IPPROTO_TCP && !(status & TCACCEL_IPS_ASSURED))) {
		bpf_ct_release(ct);
		return TCACCEL_CT_NOT_ESTABLISHED;
	}
	/*
	 * Once a FIN went through, conntrack's TCP state leaves ESTABLISHED:
	 * the teardown's last ACKs must reach it too (and must not refresh the
	 * entry with the established timeout).
	 */
	if (proto == IPPROTO_TCP && ct->proto.tcp.state != TCACCEL_TCP_CONNTRACK_ESTABLISHED) {
		bpf_ct_release(ct);
		return TCACCEL_CT_NOT_ESTABLISHED;
	}
	/* NAT would have rewritten the packet: only the stack can. */
	if (status & (TCACCEL_IPS_SRC_NAT | TCACCEL_IPS_DST_NAT)) {
		bpf_ct_release(ct);
		return TCACCEL_CT_NAT;
	}
	if (timeout_ms)
		bpf_ct_change_timeout(ct, timeout_ms);
	bpf_ct_release(ct);
	return TCACCEL_GO_ON;
}

#endif /* TCACCEL_CONNTRACK_H */

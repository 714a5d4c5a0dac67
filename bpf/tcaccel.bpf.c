// SPDX-License-Identifier: GPL-2.0
/*
 * tcaccel.bpf.c - FIB fast path at tc ingress.
 *
 * For every packet arriving on an interface it is attached to, this program
 * asks the kernel's FIB where the packet goes (bpf_fib_lookup) and, when
 * the answer is a plain unicast next hop, rewrites the MACs, decrements the
 * TTL / hop limit and hands the packet straight to the egress device with
 * bpf_redirect().  The IP forwarding path (ip_rcv, ip_forward, netfilter
 * PREROUTING/FORWARD/POSTROUTING, the neighbour output path) is skipped.
 * Anything else is handed on untouched with TC_ACT_UNSPEC - never
 * dropped - and every decision is counted under a named reason.
 *
 * Attach (the CLI does this, with TC_BPF_MNT for per-netns pins, and a
 * preference behind every filter already on the hook):
 *   tc qdisc replace dev eth0 clsact
 *   tc filter replace dev eth0 ingress pref 49152 handle 0x7cac \
 *           bpf da obj build/tcaccel.bpf.o sec tc
 * then enable the interface in the tcaccel_cfg map (`make load` does both).
 *
 * Why "da" (direct action): the program's return value *is* the verdict
 * (TC_ACT_UNSPEC / TC_ACT_REDIRECT); without it cls_bpf would treat the
 * return value as a classid.
 *
 * Why TC_ACT_UNSPEC and not TC_ACT_OK for "pass": in direct-action mode
 * cls_bpf moves on to the next filter on the hook only on TC_ACT_UNSPEC
 * (tcf_classify() loops while the verdict is negative); TC_ACT_OK ends
 * classification, so every filter behind ours (a policer, a mirror, an
 * IFB redirect, somebody else's BPF program) would never see a packet we
 * pass.  When ours is the last filter, UNSPEC and OK are the same to the
 * stack (sch_handle_ingress() acts only on REDIRECT, SHOT, STOLEN, ...).
 * And since a packet we redirect is seen by no filter behind us, `load`
 * attaches behind the filters already there, not in front of them.
 *
 * Maps (pinned by name, see include/maps.h): tcaccel_cfg, tcaccel_stats.
 */
#include "include/common.h"
#include "include/reasons.h"
#include "include/maps.h"
#include "include/parsing.h"
#include "include/ipv4.h"
#include "include/ipv6.h"

_Static_assert(TCACCEL_NR_REASONS <= TCACCEL_MAX_REASONS, "grow TCACCEL_MAX_REASONS");

#define TCACCEL_REASON_NAME(name, desc) [TCACCEL_##name] = #name,
static const char tcaccel_reason_names[TCACCEL_NR_REASONS][20] = {
	TCACCEL_REASONS(TCACCEL_REASON_NAME)
};
#undef TCACCEL_REASON_NAME

/*
 * bpf_redirect_neigh() with the next hop the FIB found (it rewrote
 * ipv4_dst/ipv6_dst to the gateway, if any; an IPv4 route may have an IPv6
 * gateway, hence fib->family).  The neighbour layer resolves it if needed -
 * queueing the packet meanwhile - and writes both MACs.
 */
static __always_inline long tcaccel_redirect_neigh(const struct bpf_fib_lookup *fib)
{
	struct bpf_redir_neigh nh = { .nh_family = fib->family };

	if (fib->family == AF_INET)
		nh.ipv4_nh = fib->ipv4_dst;
	else
		__builtin_memcpy(nh.ipv6_nh, fib->ipv6_dst, sizeof(nh.ipv6_nh));
	return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0);
}

/*
 * The entry point.  (Its name must differ from the section name "tc":
 * a C symbol called like its section does not compile.)
 */
SEC("tc")
int tcaccel_ingress(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	struct tcaccel_cfg *cfg;
	__u32 ifindex = skb->ifindex;
	__u32 reason;
	__u16 proto = 0;
	int verdict = TC_ACT_UNSPEC;

	cfg = bpf_map_lookup_elem(&tcaccel_cfg, &ifindex);
	if (!cfg || !cfg->enabled)
		return tcaccel_account(skb, 0, TCACCEL_DISABLED, TC_ACT_UNSPEC);

	tcaccel_pull(skb);
	reason = tcaccel_l2_check(skb, &proto);
	if (reason == TCACCEL_GO_ON) {
		if (proto == bpf_htons(ETH_P_IP))
			reason = tcaccel_ipv4(skb, &fib, cfg);
		else
			reason = tcaccel_ipv6(skb, &fib, cfg);
	}

	/*
	 * bpf_redirect() queues the packet to the egress device's transmit
	 * (its qdisc and tc egress run, a veth counts TX); bpf_redirect_peer()
	 * puts it straight onto the veth peer's ingress in the other netns,
	 * skipping the host-side transmit and the backlog queue;
	 * bpf_redirect_neigh() transmits through the neighbour layer.
	 */
	switch (reason) {
	case TCACCEL_REDIRECT:
	case TCACCEL_NAT_REDIRECT:
		/* the neighbour layer, once a second per next hop: fib.h */
		verdict = tcaccel_nh_due(&fib) ? tcaccel_redirect_neigh(&fib)
					       : bpf_redirect(fib.ifindex, 0);
		break;
	case TCACCEL_PEER:
	case TCACCEL_NAT_PEER:
		verdict = bpf_redirect_peer(fib.ifindex, 0);
		break;
	case TCACCEL_NEIGH:
	case TCACCEL_NAT_NEIGH:
		verdict = tcaccel_redirect_neigh(&fib);
		break;
	}

	if (unlikely(cfg->debug) && reason < TCACCEL_NR_REASONS)
		bpf_printk("tcaccel: if=%u len=%u %s egress=%u", ifindex, skb->len,
			   tcaccel_reason_names[reason],
			   tcaccel_is_forward(reason) ? fib.ifindex : 0);

	return tcaccel_account(skb, cfg->slot, reason, verdict);
}

char LICENSE[] SEC("license") = "GPL";

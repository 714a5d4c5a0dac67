/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the maps tcaccel shares with its scripts.
 *
 * Both maps are pinned by name (LIBBPF_PIN_BY_NAME).  tc's libbpf pins
 * them at <root>/tc/globals/<name>, where <root> is $TC_BPF_MNT; the CLI
 * sets it to /sys/fs/bpf/tcaccel/<netns> so that each network namespace
 * gets its own pair (ifindexes are only unique inside one netns) and
 * every interface loaded in that netns shares them.
 *
 *   tcaccel_cfg    HASH          ifindex -> struct tcaccel_cfg
 *                  written by `tcaccel load` with bpftool; no entry means
 *                  "pass everything" (the safe default while loading).
 *   tcaccel_stats  PERCPU_ARRAY  slot -> struct tcaccel_stats
 *                  packets/bytes per reason; the slot comes from the cfg
 *                  entry, slot 0 counts interfaces without one.
 *   tcaccel_peers  HASH          ifindex -> 1: veths bpf_redirect_peer() may use
 *
 * Lesson: a PERCPU map needs no atomics - each CPU increments its own
 * copy and readers (bpftool) sum the copies.
 *
 * The layouts below are ABI with scripts/tcaccel (which writes cfg as
 * raw bytes): change them only together, and expect `load` to find the
 * old pins incompatible (it replaces them when no interface uses them).
 */
#ifndef TCACCEL_MAPS_H
#define TCACCEL_MAPS_H

#include "reasons.h"

#ifndef TCACCEL_MAX_IFACES
#define TCACCEL_MAX_IFACES 256	/* interfaces per netns (stats slots) */
#endif

#ifndef TCACCEL_MAX_PEERS
#define TCACCEL_MAX_PEERS 4096	/* peer-capable veths per netns */
#endif

/*
 * How a forwardable packet leaves (see fib.h: tcaccel_fib_forward()).
 * The scripts name them by index: off redirect peer neigh auto.
 */
enum tcaccel_mode {
	TCACCEL_MODE_REDIRECT = 1,	/* bpf_redirect() to the FIB egress, MACs from the FIB */
	TCACCEL_MODE_PEER = 2,		/* bpf_redirect_peer() when the egress is a peer-capable
					 * veth, bpf_redirect() otherwise */
	TCACCEL_MODE_NEIGH = 3,		/* bpf_redirect_neigh(): no neighbour entry needed */
	TCACCEL_MODE_AUTO = 4,		/* peer, else redirect; neigh when the neighbour is unknown */
};

/* tcaccel_cfg.flags, set by `load` from the interface's sysctls and the kernel's features. */
enum tcaccel_cfg_flags {
	TCACCEL_F_RPF_STRICT	= 1 << 0,	/* rp_filter = 1: reverse route via this device */
	TCACCEL_F_RPF_LOOSE	= 1 << 1,	/* rp_filter = 2: some reverse route exists */
	TCACCEL_F_CT_GATE	= 1 << 2,	/* firewall `respect`: established flows only */
	/* From bit 8 up: what the kernel lacks (scripts/lib/features.sh probes it). */
	TCACCEL_F_NO_SKIP_NEIGH	= 1 << 8,	/* no BPF_FIB_LOOKUP_SKIP_NEIGH (fib.h) */
};

struct tcaccel_cfg {
	__u32 enabled;		/* 0: pass everything (counted DISABLED) */
	__u32 mode;		/* enum tcaccel_mode */
	__u32 debug;		/* 1: bpf_printk every decision */
	__u32 slot;		/* index into tcaccel_stats, 1..MAX_IFACES-1 */
	__u32 flags;		/* enum tcaccel_cfg_flags */
	__u32 ct_timeout_tcp;	/* s, gate only: conntrack's established timeouts, */
	__u32 ct_timeout_udp;	/*    refreshed on the fast path (0: leave alone) */
	__u32 reserved;		/* 0 */
};

struct tcaccel_stats {
	__u64 packets[TCACCEL_MAX_REASONS];
	__u64 bytes[TCACCEL_MAX_REASONS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCACCEL_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct tcaccel_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcaccel_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCACCEL_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct tcaccel_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcaccel_stats SEC(".maps");

/*
 * tcaccel_peers  HASH  ifindex -> 1 for every veth whose peer lives in
 * another netns and that has no egress qdisc or tc filter of its own
 * (bpf_redirect_peer() skips both).  Written by `load` from `ip -d -j link`,
 * refreshed at every load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCACCEL_MAX_PEERS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcaccel_peers SEC(".maps");

/* Count one packet under @reason in @slot and hand back @verdict. */
static __always_inline int tcaccel_account(const struct __sk_buff *skb, __u32 slot,
					   __u32 reason, int verdict)
{
	struct tcaccel_stats *st = bpf_map_lookup_elem(&tcaccel_stats, &slot);

	if (st && reason < TCACCEL_MAX_REASONS) {
		st->packets[reason] += 1;
		st->bytes[reason] += skb->len;
	}
	return verdict;
}

#endif /* TCACCEL_MAPS_H */

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
 * The layouts below are ABI with the scripts (they write cfg as raw
 * bytes, from build/abi.sh): a change here reaches them through the build,
 * and `load` finds the old pins incompatible (it replaces them when no
 * interface uses them).
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
 * The layout the scripts share with the program, each an X-macro: the C
 * below is expanded from them, and so are build/abi.sh and build/abi.json
 * (scripts/mkabi, with the C preprocessor, as build/tcaccel.reasons is from
 * reasons.h) that scripts/tcaccel, status, the metrics and the fuzzer read.
 * A field, mode or flag added here reaches all of them without a second
 * edit.  Append only: the maps are pinned and outlive a reload.
 */

/*
 * How a forwardable packet leaves (see fib.h: tcaccel_fib_forward()),
 * X(name, value, description); the scripts name them by value.
 */
#define TCACCEL_MODES(X)								\
	X(OFF,      0, "not a mode: an interface left at 0 passes everything")	\
	X(REDIRECT, 1, "bpf_redirect to the FIB egress, MACs from the FIB")		\
	X(PEER,     2, "bpf_redirect_peer into a container when the egress is a peer-capable veth, else redirect") \
	X(NEIGH,    3, "bpf_redirect_neigh: the kernel resolves the neighbour (no ICMP when that fails)") \
	X(AUTO,     4, "the default: peer when the egress is a peer-capable veth, else redirect; an unresolved next hop to the stack")

#define TCACCEL_MODE_ENUM(name, value, desc) TCACCEL_MODE_##name = value,
enum tcaccel_mode {
	TCACCEL_MODES(TCACCEL_MODE_ENUM)
};
#undef TCACCEL_MODE_ENUM

/*
 * tcaccel_cfg.flags bits, X(name, bit, description), set by `load` from the
 * interface's sysctls, the netns's policy and (from bit 8) what the kernel
 * lacks (scripts/lib/features.sh probes it).
 */
#define TCACCEL_CFG_FLAGS(X)									\
	X(RPF_STRICT, 0, "rp_filter = 1: reverse route via this device")			\
	X(RPF_LOOSE,  1, "rp_filter = 2: some reverse route exists")				\
	X(CT_GATE,    2, "firewall respect: established flows only (conntrack.h)")		\
	X(FW_BYPASS,  3, "firewall bypass: rules existed and are skipped on purpose (status only)") \
	X(NO_FWD6,    4, "IPv6: all.forwarding is 0 and the device has no force_forwarding: ip6_forward() drops") \
	X(MARK_RULES, 5, "the netns has fwmark ip rules: the packet's mark may route it")	\
	X(FIB_MARK,   6, "the kernel's bpf_fib_lookup() takes the mark (BPF_FIB_LOOKUP_MARK, 6.10)") \
	X(XFRM,       7, "the netns has IPsec (xfrm) policies: tcaccel_xfrm_{src,dst} hold their selectors") \
	X(NO_SKIP_NEIGH, 8, "the kernel lacks BPF_FIB_LOOKUP_SKIP_NEIGH: look up plainly (fib.h; features.sh probes it)")

#define TCACCEL_CFG_FLAG_ENUM(name, bit, desc) TCACCEL_F_##name = 1 << (bit),
enum tcaccel_cfg_flags {
	TCACCEL_CFG_FLAGS(TCACCEL_CFG_FLAG_ENUM)
};
#undef TCACCEL_CFG_FLAG_ENUM

/*
 * struct tcaccel_cfg, X(name, description): every field a __u32, in this
 * order (the scripts write the value as little-endian words).
 */
#define TCACCEL_CFG_FIELDS(X)								\
	X(enabled,        "0: pass everything (counted DISABLED)")			\
	X(mode,           "enum tcaccel_mode")						\
	X(debug,          "1: bpf_printk every decision")				\
	X(slot,           "index into tcaccel_stats, 1..MAX_IFACES-1")			\
	X(flags,          "enum tcaccel_cfg_flags")					\
	X(ct_timeout_tcp, "s, gate only: conntrack's established TCP timeout, refreshed on the fast path (0: leave alone)") \
	X(ct_timeout_udp, "s, gate only: the same for UDP streams")			\
	X(reserved,       "0")

#define TCACCEL_CFG_FIELD(name, desc) __u32 name;
struct tcaccel_cfg {
	TCACCEL_CFG_FIELDS(TCACCEL_CFG_FIELD)
};
#undef TCACCEL_CFG_FIELD

#define TCACCEL_CFG_COUNT(name, desc) + 1
_Static_assert(sizeof(struct tcaccel_cfg) == 4 * (0 TCACCEL_CFG_FIELDS(TCACCEL_CFG_COUNT)),
	       "struct tcaccel_cfg must be whole __u32 words: scripts/mkabi assumes it");
#undef TCACCEL_CFG_COUNT

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

/*
 * tcaccel_xfrm_src, tcaccel_xfrm_dst  LPM_TRIE  prefix -> 1: the source and
 * destination selectors of the netns's IPsec policies (dir fwd and out: the
 * ones ip_forward() and the output path apply to forwarded packets).  A
 * packet whose source is in one and destination in the other could match a
 * policy: it goes to the stack (a superset of what the policies match).
 * Written by `load` and `watch` from `ip xfrm policy`; used only when the
 * interface's flags have TCACCEL_F_XFRM.
 */
struct tcaccel_prefix {
	__u32 prefixlen;	/* 32 (the family word) + the prefix length */
	__u32 family;		/* AF_INET or AF_INET6, network order */
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
};

#ifndef TCACCEL_MAX_XFRM
#define TCACCEL_MAX_XFRM 1024	/* selector prefixes per netns and side */
#endif

#define TCACCEL_LPM(name)						\
struct {								\
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);				\
	__uint(max_entries, TCACCEL_MAX_XFRM);				\
	__type(key, struct tcaccel_prefix);				\
	__type(value, __u32);						\
	__uint(map_flags, BPF_F_NO_PREALLOC);				\
	__uint(pinning, LIBBPF_PIN_BY_NAME);				\
} name SEC(".maps")

TCACCEL_LPM(tcaccel_xfrm_src);
TCACCEL_LPM(tcaccel_xfrm_dst);

/*
 * tcaccel_nh  PERCPU_ARRAY  slot -> (egress ifindex, next hop, jiffies) of
 * the last packet to that next hop that went out through the neighbour
 * layer, the slot a hash of the next hop.  For the plain-redirect path,
 * which writes the MACs from the neighbour entry without running the
 * neighbour state machine: see fib.h, tcaccel_nh_due().  An array (the
 * verifier inlines its lookup: no hash, no lock, no allocation): two next
 * hops that share a slot take turns in it, and each turn sends a packet
 * through the neighbour layer - slower for those two, never wrong.
 */
struct tcaccel_nh_slot {
	__u32 ifindex;
	__u32 family;
	__u32 addr[4];
	__u64 when;		/* bpf_jiffies64() */
};

#ifndef TCACCEL_NH_SLOTS
#define TCACCEL_NH_SLOTS 1024
#endif
_Static_assert((TCACCEL_NH_SLOTS & (TCACCEL_NH_SLOTS - 1)) == 0 && TCACCEL_NH_SLOTS <= 65536,
	       "TCACCEL_NH_SLOTS: a power of two, at most 2^16 (fib.h hashes into it)");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCACCEL_NH_SLOTS);
	__type(key, __u32);
	__type(value, struct tcaccel_nh_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcaccel_nh SEC(".maps");

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

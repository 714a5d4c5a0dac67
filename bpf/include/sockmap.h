/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockmap.h - maps and helpers of the socket-level fast path
 * (bpf/sockmap.bpf.c).
 *
 * Three maps, pinned by `bpftool prog loadall ... pinmaps DIR` (not by
 * libbpf's pinning attribute: the CLI chooses the directory):
 *
 *   tcaccel_sock_hash   SOCKHASH       struct tcaccel_sock_key -> socket
 *                       every established TCP socket of the cgroup; the
 *                       kernel removes a socket when it is closed or
 *                       destroyed (sock_map_close / sock_map_destroy).
 *   tcaccel_sock_state  SK_STORAGE     socket -> struct tcaccel_sock_state
 *                       per-socket decision, freed with the socket.
 *   tcaccel_sock_stats  PERCPU_ARRAY   [0] -> struct tcaccel_sock_stats
 *                       events and bytes per reason (sock_reasons.h).
 *
 * The key layout is ABI with scripts/lib/sockmap.sh (status decodes it).
 */
#ifndef TCACCEL_SOCKMAP_H
#define TCACCEL_SOCKMAP_H

#include "common.h"
#include "sock_reasons.h"

#ifndef TCACCEL_SOCK_MAX
#define TCACCEL_SOCK_MAX 65536	/* sockets in the map (2 per local connection) */
#endif

/*
 * A socket, as seen from itself.  Addresses are IPv6, IPv4 ones in their
 * v4-mapped form (::ffff:a.b.c.d): an AF_INET socket and an AF_INET6 one
 * talking over IPv4 (v4-mapped, e.g. a dual-stack [::] listener) then
 * produce the same bytes, and find each other.
 *
 * The 4-tuple is unique only inside one network namespace: two netns can
 * each hold 127.0.0.1:40000 -> 127.0.0.1:80 at the same time.  netns is
 * the namespace's cookie (bpf_get_netns_cookie), so a socket only ever
 * finds a peer in its own namespace.  Traffic between namespaces crosses
 * veth, routing and netfilter on purpose; it is never short-cut here.
 */
struct tcaccel_sock_key {
	__u32 local_ip6[4];	/* network byte order */
	__u32 remote_ip6[4];	/* network byte order */
	__u32 local_port;	/* host byte order */
	__u32 remote_port;	/* host byte order */
	__u64 netns;		/* bpf_get_netns_cookie() */
};

/*
 * Per-socket decision, taken at the socket's first message and kept for
 * its lifetime.  Why: a redirected message lands in the peer's psock
 * queue (psock->ingress_msg), TCP data in sk_receive_queue, and
 * tcp_bpf_recvmsg() reads the psock queue first whenever it is not
 * empty.  A stream that switched from TCP to redirect half-way could be
 * read out of order.  So one direction of a connection is either
 * redirected from its first byte to its last, or never.
 */
enum tcaccel_sock_decision {
	TCACCEL_SOCK_NEW = 0,		/* no message sent yet */
	TCACCEL_SOCK_REDIRECTED = 1,	/* first message found the peer */
	TCACCEL_SOCK_TCP = 2,		/* first message did not: TCP for good */
};

struct tcaccel_sock_state {
	__u32 decision;		/* enum tcaccel_sock_decision */
	__u32 reserved;
};

struct tcaccel_sock_stats {
	__u64 events[TCACCEL_SOCK_MAX_REASONS];	/* sockets or messages */
	__u64 bytes[TCACCEL_SOCK_MAX_REASONS];	/* message bytes (MSG_*) */
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, TCACCEL_SOCK_MAX);
	__type(key, struct tcaccel_sock_key);
	/* 8 bytes: a lookup from user space (bpftool map dump) then returns
	 * the socket's cookie instead of failing with ENOSPC. */
	__type(value, __u64);
} tcaccel_sock_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for sk_storage */
	__type(key, int);
	__type(value, struct tcaccel_sock_state);
} tcaccel_sock_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcaccel_sock_stats);
} tcaccel_sock_stats SEC(".maps");

_Static_assert(TCACCEL_SOCK_NR_REASONS <= TCACCEL_SOCK_MAX_REASONS,
	       "grow TCACCEL_SOCK_MAX_REASONS");
_Static_assert(sizeof(struct tcaccel_sock_key) == 48, "key layout is ABI");

static __always_inline void tcaccel_sock_count(__u32 reason, __u64 bytes)
{
	__u32 zero = 0;
	struct tcaccel_sock_stats *st = bpf_map_lookup_elem(&tcaccel_sock_stats, &zero);

	if (st && reason < TCACCEL_SOCK_MAX_REASONS) {
		st->events[reason] += 1;
		st->bytes[reason] += bytes;
	}
}

/*
 * Context fields are read one 32-bit load at a time: the verifier
 * refuses wider loads of bpf_sock_ops / sk_msg_md fields, and without
 * the volatile clang may merge neighbouring u32 copies into u64 loads.
 */
#define TCACCEL_CTX_U32(field) (*(volatile __u32 *)&(field))

/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2) for an IPv4 address in network order. */
static __always_inline void tcaccel_v4mapped(__u32 dst[4], __u32 ip4)
{
	dst[0] = 0;
	dst[1] = 0;
	dst[2] = bpf_htonl(0x0000ffff);
	dst[3] = ip4;
}

/*
 * Fill @key from a context (struct bpf_sock_ops or struct sk_msg_md:
 * both have family, {local,remote}_ip4, {local,remote}_ip6 and the two
 * ports with the same meaning).  @reverse builds the key of the peer:
 * local and remote swapped.
 *
 * Kernel behaviour relied on (sock_ops_convert_ctx_access and
 * sk_msg_convert_ctx_access in net/core/filter.c):
 *   - local_port is skc_num: host byte order;
 *   - remote_port is skc_dport, a network-order u16, shifted left by 16
 *     on little-endian: bpf_ntohl() of the u32 gives the host-order port
 *     on either endianness;
 *   - for an AF_INET6 socket on IPv4, local/remote_ip6 are already the
 *     v4-mapped addresses (sk_v6_rcv_saddr / sk_v6_daddr).
 */
#define TCACCEL_SOCK_KEY(key, ctx, reverse)                                            \
	do {                                                                           \
		__u32 *_l = (reverse) ? (key)->remote_ip6 : (key)->local_ip6;          \
		__u32 *_r = (reverse) ? (key)->local_ip6 : (key)->remote_ip6;          \
		__u32 _lp = TCACCEL_CTX_U32((ctx)->local_port);                        \
		__u32 _rp = bpf_ntohl(TCACCEL_CTX_U32((ctx)->remote_port));            \
		if (TCACCEL_CTX_U32((ctx)->family) == AF_INET) {                       \
			tcaccel_v4mapped(_l, TCACCEL_CTX_U32((ctx)->local_ip4));       \
			tcaccel_v4mapped(_r, TCACCEL_CTX_U32((ctx)->remote_ip4));      \
		} else {                                                               \
			_l[0] = TCACCEL_CTX_U32((ctx)->local_ip6[0]);                  \
			_l[1] = TCACCEL_CTX_U32((ctx)->local_ip6[1]);                  \
			_l[2] = TCACCEL_CTX_U32((ctx)->local_ip6[2]);                  \
			_l[3] = TCACCEL_CTX_U32((ctx)->local_ip6[3]);                  \
			_r[0] = TCACCEL_CTX_U32((ctx)->remote_ip6[0]);                 \
			_r[1] = TCACCEL_CTX_U32((ctx)->remote_ip6[1]);                 \
			_r[2] = TCACCEL_CTX_U32((ctx)->remote_ip6[2]);                 \
			_r[3] = TCACCEL_CTX_U32((ctx)->remote_ip6[3]);                 \
		}                                                                      \
		(key)->local_port = (reverse) ? _rp : _lp;                             \
		(key)->remote_port = (reverse) ? _lp : _rp;                            \
		(key)->netns = bpf_get_netns_cookie(ctx);                              \
	} while (0)

#endif /* TCACCEL_SOCKMAP_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * sockmap.bpf.c - socket-level fast path for TCP between two sockets of
 * the same host (and the same network namespace).
 *
 * A separate object from the tc program, loaded with bpftool only:
 *
 *   bpftool prog loadall build/sockmap.bpf.o DIR pinmaps DIR
 *   bpftool prog attach pinned DIR/tcaccel_sk_msg msg_verdict pinned DIR/tcaccel_sock_hash
 *   bpftool cgroup attach CGROUP sock_ops pinned DIR/tcaccel_sockops multi
 *
 * (`tcaccel sockmap load` does this, with DIR=/sys/fs/bpf/tcaccel/sockmap.)
 *
 * tcaccel_sockops runs for the TCP sockets of processes in CGROUP (and
 * its descendants).  When a socket becomes ESTABLISHED it goes into the
 * tcaccel_sock_hash sockhash, keyed by its own address/port pair and
 * network namespace.  Being in a sockhash that has a msg_verdict program
 * switches the socket's protocol ops to tcp_bpf (net/ipv4/tcp_bpf.c):
 * every sendmsg() (sendfile and splice into the socket included) runs
 * tcaccel_sk_msg on the data first.
 *
 * tcaccel_sk_msg looks up the *peer*: the key with local and remote
 * swapped.  When the peer is in the map - the other end of a local
 * connection, in the same netns, also in the cgroup - the message is
 * redirected with bpf_msg_redirect_hash(..., BPF_F_INGRESS): the kernel
 * queues the pages on the peer socket's psock ingress queue and wakes
 * it; recvmsg()/poll() on the peer read from there.  No skb, no TCP
 * segmentation, no loopback device, no IP stack.  Otherwise the message
 * continues on TCP, unchanged: SK_PASS.  Nothing is ever dropped
 * (SK_DROP would fail the sender's sendmsg with EACCES).
 */
#include "include/common.h"
#include "include/sock_reasons.h"
#include "include/sockmap.h"

#ifndef BPF_F_INGRESS
#define BPF_F_INGRESS (1ULL << 0)
#endif

/*
 * Entry names differ from their section names (a C symbol named like
 * its SEC does not compile).  bpftool pins programs by these names.
 */
SEC("sockops")
int tcaccel_sockops(struct bpf_sock_ops *skops)
{
	struct tcaccel_sock_key key = {};
	struct tcaccel_sock_state *st;
	struct bpf_sock *sk;
	__u32 op = skops->op;
	__u32 family = skops->family;

	/*
	 * ACTIVE_ESTABLISHED: a connect()ing socket got its SYN-ACK;
	 * PASSIVE_ESTABLISHED: an accepted socket got the final ACK (before
	 * accept() returns it and before any data of the peer is queued on
	 * it).  Every other callback is left alone: return 1 and do not
	 * touch skops->reply, so the kernel keeps its defaults.
	 */
	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (family != AF_INET && family != AF_INET6)
		return 1;

	/*
	 * TCP Fast Open: the client's first bytes left in its SYN, over
	 * TCP, and wait in the server's receive queue.  Redirecting the
	 * rest could overtake them (see enum tcaccel_sock_decision), so
	 * such a client stays on TCP; the server then finds no peer.
	 */
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->data_segs_out) {
		tcaccel_sock_count(TCACCEL_SOCK_FASTOPEN, 0);
		return 1;
	}

	sk = skops->sk;
	if (!sk)
		return 1;
	/* The state must exist before the socket can send through us: a
	 * socket without it never redirects (MSG_NO_STATE). */
	st = bpf_sk_storage_get(&tcaccel_sock_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		tcaccel_sock_count(TCACCEL_SOCK_NO_STATE, 0);
		return 1;
	}
	st->decision = TCACCEL_SOCK_NEW;

	TCACCEL_SOCK_KEY(&key, skops, 0);
	/*
	 * BPF_ANY: a key still held by a dead socket (reset, not yet
	 * closed by its owner) belongs to the new connection now.
	 */
	if (bpf_sock_hash_update(skops, &tcaccel_sock_hash, &key, BPF_ANY))
		tcaccel_sock_count(TCACCEL_SOCK_ADD_FAILED, 0);
	else
		tcaccel_sock_count(TCACCEL_SOCK_ADDED, 0);
	return 1;
}

SEC("sk_msg")
int tcaccel_sk_msg(struct sk_msg_md *msg)
{
	struct tcaccel_sock_key peer = {};
	struct tcaccel_sock_state *st;
	struct bpf_sock *sk = msg->sk;
	__u64 size = msg->size;

	if (!sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&tcaccel_sock_state, sk, 0, 0);
	if (!st) {
		tcaccel_sock_count(TCACCEL_MSG_NO_STATE, size);
		return SK_PASS;
	}
	if (st->decision == TCACCEL_SOCK_TCP) {
		tcaccel_sock_count(TCACCEL_MSG_STAYS_TCP, size);
		return SK_PASS;
	}

	TCACCEL_SOCK_KEY(&peer, msg, 1);
	/*
	 * bpf_msg_redirect_hash() returns SK_PASS and records the peer when
	 * the key is in the map and the peer socket may receive (TCP: not
	 * LISTEN); SK_DROP otherwise, changing nothing - so the miss
	 * becomes our SK_PASS: plain TCP.
	 */
	if (bpf_msg_redirect_hash(msg, &tcaccel_sock_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		st->decision = TCACCEL_SOCK_REDIRECTED;
		tcaccel_sock_count(TCACCEL_MSG_REDIRECT, size);
		return SK_PASS;
	}
	if (st->decision == TCACCEL_SOCK_NEW) {
		st->decision = TCACCEL_SOCK_TCP;
		tcaccel_sock_count(TCACCEL_MSG_NO_PEER, size);
	} else {
		tcaccel_sock_count(TCACCEL_MSG_PEER_GONE, size);
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";

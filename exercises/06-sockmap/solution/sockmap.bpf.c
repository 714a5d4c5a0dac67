// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 6 - sockmap for local TCP (solution).
 *
 * Two programs, loaded with bpftool (not tc):
 *
 *  ex_sockops (BPF_PROG_TYPE_SOCK_OPS, attached to a cgroup) runs on TCP
 *  events of that cgroup's sockets.  When a connection is established it
 *  puts the socket in the sockhash tcaccel_socks, keyed by its 4-tuple as
 *  the socket itself sees it (local ip/port, remote ip/port).
 *
 *  ex_msg (BPF_PROG_TYPE_SK_MSG, attached to the sockhash) runs on every
 *  sendmsg() of a socket in the map.  It looks up the *other end* of the
 *  connection - the socket whose local address is our remote one - and
 *  moves the data straight into that socket's receive queue
 *  (bpf_msg_redirect_hash with BPF_F_INGRESS).  TCP segments, loopback,
 *  IP, netfilter and the softirq are all skipped; the connection itself
 *  (handshake, FIN) still goes over loopback.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"	/* ../common/: tcaccel_cnt and cnt_add() */

#define AF_INET 2

/* A connection as one of its sockets sees it; ports in host byte order. */
struct sock_key {
	__u32 local_ip;
	__u32 remote_ip;
	__u32 local_port;
	__u32 remote_port;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1024);
	__type(key, struct sock_key);
	__type(value, __u64);
} tcaccel_socks SEC(".maps");

/* What the check reads in tcaccel_cnt: [0] sockets added, [1] bytes redirected. */
enum { SOCKETS = 0, BYTES = 1 };

SEC("sockops")
int ex_sockops(struct bpf_sock_ops *skops)
{
	struct sock_key key = {};

	if (skops->family != AF_INET)
		return 1;
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&	/* connect() done */
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)	/* accept()ed */
		return 1;

	key.local_ip = skops->local_ip4;
	key.remote_ip = skops->remote_ip4;
	/* local_port is in host byte order, remote_port in network byte order
	 * as a 32-bit value: bpf_ntohl() gives the port. */
	key.local_port = skops->local_port;
	key.remote_port = bpf_ntohl(skops->remote_port);
	if (bpf_sock_hash_update(skops, &tcaccel_socks, &key, BPF_ANY) == 0)
		cnt_add(SOCKETS, 1);
	return 1;
}

SEC("sk_msg")
int ex_msg(struct sk_msg_md *msg)
{
	struct sock_key peer = {};
	long ret;

	/* The other end: its local address is our remote one, and back. */
	peer.local_ip = msg->remote_ip4;
	peer.remote_ip = msg->local_ip4;
	peer.local_port = bpf_ntohl(msg->remote_port);
	peer.remote_port = msg->local_port;

	ret = bpf_msg_redirect_hash(msg, &tcaccel_socks, &peer, BPF_F_INGRESS);
	if (ret == SK_PASS)
		cnt_add(BYTES, msg->size);
	return ret;	/* SK_PASS: redirected; SK_DROP: no such socket (the sender gets an error) */
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Lesson 6 - sockmap for local TCP.  Your file: README.md says what to
 * do; `make check` tells you whether it works.
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

	/*
	 * TODO 1: fill key with this socket's view of the connection
	 * (skops->local_ip4, remote_ip4, local_port, remote_port; careful:
	 * local_port is in host byte order, remote_port in network byte order
	 * as a 32-bit value: bpf_ntohl() gives the port)
	 * and put the socket in tcaccel_socks with bpf_sock_hash_update();
	 * cnt_add(SOCKETS, 1) when that returns 0.
	 */
	(void)key;
	return 1;
}

SEC("sk_msg")
int ex_msg(struct sk_msg_md *msg)
{
	/*
	 * TODO 2: build the key of the *other end* of the connection (its
	 * local address is msg's remote one, and back; same byte orders as in
	 * TODO 1) and move the message into that socket's receive queue:
	 * bpf_msg_redirect_hash(msg, &tcaccel_socks, &peer, BPF_F_INGRESS).
	 * cnt_add(BYTES, msg->size) when it returns SK_PASS, and return its answer.
	 */
	(void)msg;
	return SK_PASS;	/* as it is: the data goes the usual way, over TCP/IP */
}

char _license[] SEC("license") = "GPL";

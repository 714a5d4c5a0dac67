/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - includes and conventions shared by every tcaccel header.
 *
 * tc packet programs only see UAPI structures (struct __sk_buff and the
 * packet bytes), so we build against the distro's UAPI headers plus
 * libbpf's bpf_helpers.h - no vmlinux.h, no CO-RE.
 */
#ifndef TCACCEL_COMMON_H
#define TCACCEL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* Not in every UAPI header set. */
#ifndef IP_MF
#define IP_MF 0x2000
#endif
#ifndef IP_OFFSET
#define IP_OFFSET 0x1fff
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif /* TCACCEL_COMMON_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - the two counters a lesson's check reads (lessons 1-4 and
 * 6): the array map tcaccel_cnt, and count() / cnt_add() to bump them.
 * Lesson 5 does not include it: counting by reason is its subject.
 *
 * Contract: header-only, static __always_inline, UAPI + bpf_helpers.h
 * only.  The map's name is the check's interface (`bpftool map dump name
 * tcaccel_cnt` while a check runs); what [0] and [1] count is the lesson's:
 * PASSED / REDIRECTED packets in lessons 1-4 (below), sockets and bytes in
 * lesson 6 (its own enum).
 */
#ifndef EX_COUNTERS_H
#define EX_COUNTERS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tcaccel_cnt SEC(".maps");

/*
 * Lesson: an ARRAY map has one value per key for the whole machine, and
 * this program runs on every CPU at once: a plain *c += n would lose
 * increments; __sync_fetch_and_add() is an atomic add (BPF_ATOMIC).  A
 * PERCPU_ARRAY avoids the atomic, and the reader sums the CPUs' values.
 * The lookup cannot fail for a key below max_entries, but test for NULL
 * all the same: the verifier refuses to dereference a pointer it cannot
 * prove non-NULL.
 */
static __always_inline void cnt_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&tcaccel_cnt, &idx);

	if (c)
		__sync_fetch_and_add(c, n);
}

/* Lessons 1-4: [0] packets left to the kernel, [1] packets the program redirected. */
enum { PASSED = 0, REDIRECTED = 1 };

/* Count one packet under @what, return @verdict: `return count(REDIRECTED, bpf_redirect(...));` */
static __always_inline int count(__u32 what, int verdict)
{
	cnt_add(what, 1);
	return verdict;
}

#endif /* EX_COUNTERS_H */

/* SPDX-License-Identifier: Apache-2.0
 *
 * spo syscall recorder: one raw tracepoint on sys_enter.
 *
 * A *target* is a set of cgroup v2 directories created by userspace for the process tree
 * being recorded. A task belongs to target T when its cgroup, or an ancestor at one of the
 * configured levels, is one of T's cgroups (so sub-cgroups the target creates itself are
 * still covered). For such a task the syscall number is OR-ed into a 1024-bit bitmap keyed
 * by (target, ABI, mount namespace). No event is sent per syscall: userspace reads the
 * bitmaps when the recording ends. Anything that could not be recorded (map full) is
 * counted per target in `stats`; nothing is lost silently.
 */
#include "core.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_TARGETS 64
#define MAX_LEVELS 4
#define NR_SLOTS 1024
#define WORDS (NR_SLOTS / 64)
#define TS_COMPAT 0x0002
#define X32_SYSCALL_BIT 0x40000000ULL

/* Must match src/bpf/abi.rs. */
enum spo_abi { ABI_NATIVE = 0, ABI_COMPAT = 1, ABI_X32 = 2 };
enum spo_stat {
	STAT_DROPPED = 0,   /* bitmap map full: syscalls of a new (ABI, mntns) lost */
	STAT_BAD_NR = 1,    /* syscall numbers >= 1024 or negative (not real syscalls) */
	STAT_MAX = 2,
};

struct spo_config {
	__u32 nlevels;
	__u32 levels[MAX_LEVELS];
};

struct spo_rec_key {
	__u32 target;
	__u32 abi;
	__u32 mntns;
	__u32 pad;
};

struct spo_bitmap {
	__u64 words[WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spo_config);
} config SEC(".maps");

/* cgroup v2 id -> target slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct spo_rec_key);
	__type(value, struct spo_bitmap);
} syscalls SEC(".maps");

/* index = target * STAT_MAX + stat */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_TARGETS * STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 target, __u32 stat)
{
	__u32 idx = target * STAT_MAX + stat;
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline __u32 *find_target(void)
{
	__u32 zero = 0;
	struct spo_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
#pragma unroll
	for (int i = 0; i < MAX_LEVELS; i++) {
		if (i >= cfg->nlevels)
			return 0;
		__u64 id = bpf_get_current_ancestor_cgroup_id(cfg->levels[i]);
		if (id) {
			__u32 *t = bpf_map_lookup_elem(&targets, &id);
			if (t)
				return t;
		}
	}
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 *tp = find_target();
	if (!tp)
		return 0;
	__u32 target = *tp;
	if (target >= MAX_TARGETS)
		return 0;

	/* args: (struct pt_regs *regs, long id); see HOWTO: index through a u64 pointer. */
	__u64 nr = ((__u64 *)ctx)[1];
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 abi = ABI_NATIVE;
#ifdef __TARGET_ARCH_x86
	if (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT)
		abi = ABI_COMPAT;
	else if (nr & X32_SYSCALL_BIT) {
		abi = ABI_X32;
		nr &= ~X32_SYSCALL_BIT;
	}
#endif
	if (nr >= NR_SLOTS) {
		bump(target, STAT_BAD_NR);
		return 0;
	}

	struct spo_rec_key key = {
		.target = target,
		.abi = abi,
		.mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum),
		.pad = 0,
	};
	struct spo_bitmap *bm = bpf_map_lookup_elem(&syscalls, &key);
	if (!bm) {
		struct spo_bitmap empty = {};
		bpf_map_update_elem(&syscalls, &key, &empty, BPF_NOEXIST);
		bm = bpf_map_lookup_elem(&syscalls, &key);
		if (!bm) {
			bump(target, STAT_DROPPED);
			return 0;
		}
	}
	__u64 *word = &bm->words[(nr >> 6) & (WORDS - 1)];
	__u64 bit = 1ULL << (nr & 63);
	if (!(*word & bit))
		__sync_fetch_and_or(word, bit);
	return 0;
}

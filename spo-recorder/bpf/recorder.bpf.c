/* SPDX-License-Identifier: Apache-2.0
 *
 * spo syscall recorder: one raw tracepoint on sys_enter.
 *
 * A *target* is a set of cgroup v2 directories created by userspace for the process tree
 * being recorded. A task belongs to a target when its cgroup, or its ancestor at one of the
 * configured levels, is one of the target's cgroups (so sub-cgroups the target creates
 * itself are still covered).
 *
 * Per syscall of a target task the number is OR-ed into a 1024-bit bitmap; no event is sent.
 * Hot path: each CPU caches the last target task it saw (task pointer + pid/tgid) with
 * private bitmaps, so consecutive syscalls of that task cost two helper calls, two inlined
 * array lookups, one kernel read (the compat flag) and a bit set. When another target task
 * shows up on the CPU, the private bitmaps are flushed (atomic OR) into the shared map keyed
 * by (target, ABI, mount namespace). Userspace reads the shared map and every CPU's cache.
 * A bitmap that cannot be stored (map full) is counted in `stats`: no silent loss.
 */
#include "core.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_TARGETS 64
#define MAX_LEVELS 4
#define NR_SLOTS 1024
#define WORDS (NR_SLOTS / 64)
#define TS_COMPAT 0x0002
#define X32_SYSCALL_BIT 0x40000000ULL

/* Native syscalls after which the mount namespace of the task may change. */
#if defined(__TARGET_ARCH_x86)
#define NR_UNSHARE 272
#define NR_SETNS 308
#elif defined(__TARGET_ARCH_arm64)
#define NR_UNSHARE 97
#define NR_SETNS 268
#endif

/* Must match src/bpf/abi.rs. */
enum spo_abi { ABI_NATIVE = 0, ABI_COMPAT = 1, ABI_X32 = 2, ABI_MAX = 3 };
enum spo_stat {
	STAT_DROPPED = 0, /* a bitmap could not be stored (map full) */
	STAT_BAD_NR = 1,  /* syscall numbers >= 1024 or negative (not real syscalls) */
	STAT_MAX = 2,
};

struct spo_config {
	__u32 nlevels;
	__u32 levels[MAX_LEVELS];
};

struct spo_target {
	__u32 slot;
	__u32 instance;
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

struct spo_cache {
	__u64 task;
	__u64 pid_tgid; /* tgid << 32 | pid */
	__u32 slot;
	__u32 instance;
	__u32 mntns;
	__u32 nsgen; /* value of `nsgen` when mntns was read */
	struct spo_bitmap bits[ABI_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spo_config);
} config SEC(".maps");

/* cgroup v2 id -> target */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct spo_target);
} targets SEC(".maps");

/* slot -> instance currently recorded in it (0 = none) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct spo_rec_key);
	__type(value, struct spo_bitmap);
} syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spo_cache);
} cache SEC(".maps");

/* Bumped whenever a target task may change its mount namespace (unshare/setns). Every CPU's
 * cache compares it, so a task that migrates to another CPU after `unshare` is not attributed
 * to its old namespace by a stale cache entry there. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nsgen SEC(".maps");

/* index = slot * STAT_MAX + stat */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_TARGETS * STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 slot, __u32 stat)
{
	__u32 idx = slot * STAT_MAX + stat;
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline struct spo_target *find_target(void)
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
			struct spo_target *t = bpf_map_lookup_elem(&targets, &id);
			if (t)
				return t;
		}
	}
	return 0;
}

static __always_inline int is_active(__u32 slot, __u32 instance)
{
	__u32 *a = bpf_map_lookup_elem(&active, &slot);
	return a && instance && *a == instance;
}

/* Moves the CPU's private bitmaps into the shared map (or drops them when their target is no
 * longer recorded), leaving them zero. */
static __always_inline void flush(struct spo_cache *c)
{
	int live = is_active(c->slot, c->instance);
#pragma unroll
	for (int abi = 0; abi < ABI_MAX; abi++) {
		__u64 any = 0;
#pragma unroll
		for (int w = 0; w < WORDS; w++)
			any |= c->bits[abi].words[w];
		if (!any)
			continue;
		struct spo_bitmap *bm = 0;
		if (live) {
			struct spo_rec_key key = {
				.target = c->slot,
				.abi = abi,
				.mntns = c->mntns,
				.pad = 0,
			};
			bm = bpf_map_lookup_elem(&syscalls, &key);
			if (!bm) {
				struct spo_bitmap empty = {};
				bpf_map_update_elem(&syscalls, &key, &empty, BPF_NOEXIST);
				bm = bpf_map_lookup_elem(&syscalls, &key);
				if (!bm)
					bump(c->slot, STAT_DROPPED);
			}
		}
#pragma unroll
		for (int w = 0; w < WORDS; w++) {
			__u64 v = c->bits[abi].words[w];
			if (v) {
				if (bm)
					__sync_fetch_and_or(&bm->words[w], v);
				c->bits[abi].words[w] = 0;
			}
		}
	}
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	struct spo_cache *c = bpf_map_lookup_elem(&cache, &zero);
	if (!c)
		return 0;
	__u32 *gen = bpf_map_lookup_elem(&nsgen, &zero);
	if (!gen)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = ((__u64)(__u32)task->tgid << 32) | (__u32)task->pid;
	/* pid_tgid guards against a freed task_struct being reused by another task. */
	if (c->task != (__u64)task || c->pid_tgid != pid_tgid || c->nsgen != *gen ||
	    !is_active(c->slot, c->instance)) {
		struct spo_target *t = find_target();
		if (!t)
			return 0;
		__u32 slot = t->slot, instance = t->instance;
		if (slot >= MAX_TARGETS)
			return 0;
		flush(c);
		c->task = (__u64)task;
		c->pid_tgid = pid_tgid;
		c->slot = slot;
		c->instance = instance;
		c->mntns = task->nsproxy->mnt_ns->ns.inum;
		c->nsgen = *gen;
	}

	/* args: (struct pt_regs *regs, long id); see HOWTO: index through a u64 pointer. */
	__u64 nr = ((__u64 *)ctx)[1];
	__u32 abi = ABI_NATIVE;
#ifdef __TARGET_ARCH_x86
	if (task->thread_info.status & TS_COMPAT)
		abi = ABI_COMPAT;
	else if (nr & X32_SYSCALL_BIT) {
		abi = ABI_X32;
		nr &= ~X32_SYSCALL_BIT;
	}
#endif
	if (nr >= NR_SLOTS) {
		bump(c->slot, STAT_BAD_NR);
		return 0;
	}
	c->bits[abi].words[(nr >> 6) & (WORDS - 1)] |= 1ULL << (nr & 63);
#ifdef NR_UNSHARE
	/* The task may switch mount namespace: store what it did so far under the old one and
	 * look it up again on its next syscall. */
	if (abi == ABI_NATIVE && (nr == NR_UNSHARE || nr == NR_SETNS)) {
		flush(c);
		c->task = 0;
		__sync_fetch_and_add(gen, 1);
	}
#endif
	return 0;
}

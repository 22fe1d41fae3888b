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
	STAT_AA_DROPPED = 2,  /* an AppArmor path could not be stored (map full) */
	STAT_AA_RELATIVE = 3, /* a relative path (to a directory fd or the cwd): not resolved */
	STAT_MAX = 4,
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

/* ---------------------------------------------------------------------------------------
 * AppArmor recording (RC-21) without BPF LSM: raw tracepoints only.
 *
 * `sys_enter` (the syscall recorder's own program, when `aa_config.enabled`) looks at the
 * few syscalls an AppArmor profile is made of and reads their arguments from the saved user
 * registers: open/openat/openat2/creat (path pointer + read/write intent, parked per
 * thread) and socket (family/type).
 * `aa_sys_exit` records a parked open only when it succeeded (the dynamic loader probes
 * many library paths that do not exist), reading the path then: the kernel has just copied
 * it, so its page is present (at sys_enter a string literal of a freshly forked child may
 * not be mapped yet, and a tracepoint cannot fault it in). `aa_exec_done`
 * (sched_process_exec) records the executed file from the kernel's `bprm->filename`, whose
 * offset userspace finds in the kernel BTF. `aa_cap` (raw tracepoint cap_capable,
 * Linux >= 6.14) records capability checks. Paths are aggregated in the kernel per target:
 * (slot, instance, path) -> access flags; no event per syscall.
 */
#define AA_PATH_MAX 256
#define AA_READ 1
#define AA_WRITE 2
#define AA_EXEC 4
#define AA_SOCK_RAW 1
#define AA_SOCK_TCP 2
#define AA_SOCK_UDP 4

#if defined(__TARGET_ARCH_x86)
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_OPENAT 257
#define NR_OPENAT2 437
#define NR_SOCKET 41
/* struct pt_regs (x86_64, ptrace ABI): offsets of di, si, dx. */
#define REG_ARG0 112
#define REG_ARG1 104
#define REG_ARG2 96
#elif defined(__TARGET_ARCH_arm64)
#define NR_OPEN (-1)
#define NR_CREAT (-1)
#define NR_OPENAT 56
#define NR_OPENAT2 437
#define NR_SOCKET 198
/* struct user_pt_regs: regs[0..] first. */
#define REG_ARG0 0
#define REG_ARG1 8
#define REG_ARG2 16
#endif

struct spo_aa_key {
	__u32 slot;
	__u32 instance;
	char path[AA_PATH_MAX];
};

struct spo_aa_slot {
	__u64 caps;
	__u64 sockets;
	__u32 instance;
	__u32 pad;
};

struct spo_aa_pending {
	__u32 slot;
	__u32 instance;
	__u64 uptr;
	__u64 flags;
};

struct spo_aa_config {
	__u32 binprm_filename; /* byte offset of linux_binprm.filename */
	__u32 valid;          /* the offset is known */
	__u32 enabled;        /* AppArmor recording is on */
	__u32 pad;
};

/* (slot, instance, path) -> AA_* flags */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct spo_aa_key);
	__type(value, __u64);
} aa_paths SEC(".maps");

/* slot -> capabilities and sockets */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct spo_aa_slot);
} aa_slots SEC(".maps");

/* thread id -> open in progress */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct spo_aa_pending);
} aa_open SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spo_aa_config);
} aa_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct spo_aa_key);
} aa_scratch SEC(".maps");

static __always_inline __u64 reg_arg(void *regs, int off)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), (char *)regs + off);
	return v;
}

/* The recorded target of the current task, or 0. */
static __always_inline struct spo_target *active_target(void)
{
	struct spo_target *t = find_target();
	if (!t || t->slot >= MAX_TARGETS || !is_active(t->slot, t->instance))
		return 0;
	return t;
}

/* The zeroed scratch key of this CPU for (slot, instance). */
static __always_inline struct spo_aa_key *scratch_key(__u32 slot, __u32 instance)
{
	__u32 zero = 0;
	struct spo_aa_key *k = bpf_map_lookup_elem(&aa_scratch, &zero);
	if (!k)
		return 0;
	__u64 *w = (__u64 *)k->path;
#pragma unroll
	for (int i = 0; i < AA_PATH_MAX / 8; i++)
		w[i] = 0;
	k->slot = slot;
	k->instance = instance;
	return k;
}

/* Keeps only absolute paths (n = bytes read with the NUL); counts relative ones. */
static __always_inline int usable(struct spo_aa_key *k, long n)
{
	if (n <= 1)
		return 0;
	if (k->path[0] != '/') {
		bump(k->slot, STAT_AA_RELATIVE);
		return 0;
	}
	return 1;
}

static __always_inline void add_path(struct spo_aa_key *k, __u64 flags)
{
	__u64 *v = bpf_map_lookup_elem(&aa_paths, k);
	if (v) {
		if ((*v & flags) != flags)
			__sync_fetch_and_or(v, flags);
		return;
	}
	if (bpf_map_update_elem(&aa_paths, k, &flags, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(&aa_paths, k);
	if (v)
		__sync_fetch_and_or(v, flags);
	else
		bump(k->slot, STAT_AA_DROPPED);
}

static __always_inline __u64 open_flags(__u64 flags)
{
	if (flags & 010000000) /* O_PATH: no file access */
		return 0;
	__u64 f = 0;
	switch (flags & 3) {
	case 0:
		f = AA_READ;
		break;
	case 1:
		f = AA_WRITE;
		break;
	default:
		f = AA_READ | AA_WRITE;
	}
	if (flags & (0100 | 01000)) /* O_CREAT, O_TRUNC */
		f |= AA_WRITE;
	return f;
}

static __always_inline struct spo_aa_slot *slot_data(__u32 slot, __u32 instance)
{
	struct spo_aa_slot *s = bpf_map_lookup_elem(&aa_slots, &slot);
	if (!s)
		return 0;
	if (s->instance != instance) {
		/* first use by this recording: userspace zeroes the slot on start, this guards
		 * against a stale entry */
		s->caps = 0;
		s->sockets = 0;
		s->instance = instance;
	}
	return s;
}

static __always_inline int is_aa_nr(long nr)
{
	return nr == NR_OPENAT || nr == NR_OPEN || nr == NR_OPENAT2 || nr == NR_CREAT ||
	       nr == NR_SOCKET;
}

/* Called by `sys_enter` for a native syscall `nr` (is_aa_nr) of a recorded task. */
static __always_inline void aa_enter(void *ctx, __u32 slot, __u32 instance, long nr)
{
	__u32 zero = 0;
	struct spo_aa_config *cfg = bpf_map_lookup_elem(&aa_config, &zero);
	if (!cfg || !cfg->enabled)
		return;
	void *regs = (void *)((__u64 *)ctx)[0];
	__u64 a0 = reg_arg(regs, REG_ARG0);
	__u64 a1 = reg_arg(regs, REG_ARG1);

	if (nr == NR_SOCKET) {
		__u32 type = a1 & 0xf, fam = (__u32)a0;
		__u64 f = 0;
		if (type == 3 /* SOCK_RAW */ || fam == 17 /* AF_PACKET */)
			f = AA_SOCK_RAW;
		else if (fam == 2 || fam == 10) /* AF_INET, AF_INET6 */
			f = type == 1 ? AA_SOCK_TCP : (type == 2 ? AA_SOCK_UDP : 0);
		struct spo_aa_slot *s = slot_data(slot, instance);
		if (s && f)
			__sync_fetch_and_or(&s->sockets, f);
		return;
	}

	/* The *at() forms: an absolute path ignores the directory fd; a relative one (to the
	 * fd or the cwd) is counted and not recorded. */
	struct spo_aa_pending p = {.slot = slot, .instance = instance, .uptr = a1};
	if (nr == NR_OPEN) {
		p.uptr = a0;
		p.flags = open_flags(a1);
	} else if (nr == NR_CREAT) {
		p.uptr = a0;
		p.flags = AA_WRITE;
	} else if (nr == NR_OPENAT) {
		p.flags = open_flags(reg_arg(regs, REG_ARG2));
	} else {
		__u64 how_flags = 0;
		bpf_probe_read_user(&how_flags, sizeof(how_flags),
				    (const void *)reg_arg(regs, REG_ARG2));
		p.flags = open_flags(how_flags);
	}
	if (p.flags) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		bpf_map_update_elem(&aa_open, &tid, &p, BPF_ANY);
	}
}

/* args: (struct pt_regs *regs, long ret) */
SEC("raw_tracepoint/sys_exit")
int aa_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct spo_aa_pending *p = bpf_map_lookup_elem(&aa_open, &tid);
	if (!p)
		return 0;
	long ret = (long)((__u64 *)ctx)[1];
	__u32 slot = p->slot, instance = p->instance;
	__u64 uptr = p->uptr, flags = p->flags;
	bpf_map_delete_elem(&aa_open, &tid);
	if (ret < 0 || slot >= MAX_TARGETS || !is_active(slot, instance))
		return 0;
	struct spo_aa_key *k = scratch_key(slot, instance);
	if (!k)
		return 0;
	long n = bpf_probe_read_user_str(k->path, AA_PATH_MAX, (const void *)uptr);
	if (usable(k, n))
		add_path(k, flags);
	return 0;
}

/* args: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tracepoint/sched_process_exec")
int aa_exec_done(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	struct spo_aa_config *cfg = bpf_map_lookup_elem(&aa_config, &zero);
	if (!cfg || !cfg->valid || cfg->binprm_filename > 4096)
		return 0;
	struct spo_target *t = active_target();
	if (!t)
		return 0;
	char *bprm = (char *)((__u64 *)ctx)[2];
	__u64 fname = 0;
	bpf_probe_read_kernel(&fname, sizeof(fname), bprm + cfg->binprm_filename);
	struct spo_aa_key *k = scratch_key(t->slot, t->instance);
	if (!k || !fname)
		return 0;
	long n = bpf_probe_read_kernel_str(k->path, AA_PATH_MAX, (const void *)fname);
	if (usable(k, n))
		add_path(k, AA_EXEC);
	return 0;
}

/* args: (const struct cred *cred, struct user_namespace *target_ns,
 *        const struct user_namespace *capable_ns, int cap, int ret) */
SEC("raw_tracepoint/cap_capable")
int aa_cap(struct bpf_raw_tracepoint_args *ctx)
{
	int cap = (int)((__u64 *)ctx)[3];
	if (cap < 0 || cap >= 64)
		return 0;
	struct spo_target *t = active_target();
	if (!t)
		return 0;
	struct spo_aa_slot *s = slot_data(t->slot, t->instance);
	if (s)
		__sync_fetch_and_or(&s->caps, 1ULL << cap);
	return 0;
}

/* The syscall recorder (and the AppArmor entry hook). */
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
	/* AppArmor recording (when enabled): the same hook, no second program per syscall. */
	if (abi == ABI_NATIVE && is_aa_nr(nr))
		aa_enter(ctx, c->slot, c->instance, nr);
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


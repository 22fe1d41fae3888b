/* SPDX-License-Identifier: Apache-2.0
 *
 * Minimal CO-RE declarations for the syscall recorder: only the fields the program reads.
 * `preserve_access_index` makes clang emit BTF relocations, so the loader (aya) fixes the
 * offsets against the running kernel's BTF (/sys/kernel/btf/vmlinux); the layouts below
 * need not match any particular kernel.
 *
 * The program gets the current task with bpf_get_current_task_btf(), a pointer the verifier
 * knows the kernel type of, so these fields are read with plain (fault-guarded) loads instead
 * of bpf_probe_read_kernel() calls: that keeps the per-syscall path cheap.
 */
#ifndef SPO_CORE_H
#define SPO_CORE_H

#include <linux/types.h>
#include <linux/bpf.h>

/* x86: `struct thread_info` is the first member of task_struct (THREAD_INFO_IN_TASK);
 * `status & TS_COMPAT` marks a task that is inside a 32-bit (ia32) syscall. */
struct thread_info {
	__u32 status;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * Test program for the eBPF recorder (RC-36..RC-40, CLI-08): makes a known list of syscalls
 * through syscall(2) so the numbers are exact. Some are made only by the main thread, some
 * only by a second thread, some only by a forked grandchild, some only after that grandchild
 * re-executes itself, and (x86_64) two through the 32-bit compat entry (int 0x80).
 * The lists are mirrored in tests/bpf/main.rs.
 *
 *   exerciser [full]     everything (default)
 *   exerciser main-only  only the main thread's list (no thread, no fork, no exec)
 *   exerciser wait       wait for SIGUSR1, then run `full`
 *   exerciser noise SECS call sysinfo in a loop for SECS seconds (the unrelated process)
 *   exerciser apparmor DIR  what an AppArmor profile is made of (RC-21): opens DIR/read
 *                        (read), DIR/write (write, created), DIR/rw (read-write, created),
 *                        DIR/openat2 (openat2, read), DIR/opath (O_PATH: no access),
 *                        DIR/missing (fails: not an access),
 *                        `relative` (relative to the cwd); a TCP and a UDP socket;
 *                        setpriority(-1) (CAP_SYS_NICE); execs `true` through PATH in a
 *                        child; finally chroot(DIR) (CAP_SYS_CHROOT).
 *
 * Exit status 0 unless a thread/fork/exec could not be started. Results of the calls do not
 * matter (the recorder sees the entry); none of them changes the system.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void main_list(void)
{
	char buf[512];
	long l;
	syscall(SYS_getpid);
	syscall(SYS_getppid);
	syscall(SYS_getuid);
	syscall(SYS_geteuid);
	syscall(SYS_getgid);
	syscall(SYS_getegid);
	syscall(SYS_gettid);
	syscall(SYS_getpgrp);
	syscall(SYS_getcwd, buf, sizeof buf);
	syscall(SYS_uname, buf);
	l = syscall(SYS_umask, 022);
	syscall(SYS_umask, l);
	syscall(SYS_times, buf);
	syscall(SYS_getpriority, 0, 0);
	syscall(SYS_sched_getscheduler, 0);
	syscall(SYS_sched_get_priority_max, 0);
	syscall(SYS_sched_get_priority_min, 0);
	syscall(SYS_getitimer, 0, buf);
	syscall(SYS_getsid, 0);
	{
		unsigned r[3];
		syscall(SYS_getresuid, &r[0], &r[1], &r[2]);
		syscall(SYS_getresgid, &r[0], &r[1], &r[2]);
	}
	syscall(SYS_getgroups, 0, NULL);
	{
		unsigned hdr[2] = {0x20080522, 0};
		unsigned data[6];
		syscall(SYS_capget, hdr, data);
	}
	syscall(SYS_personality, 0xffffffffUL);
	syscall(SYS_clock_getres, CLOCK_MONOTONIC, buf);
	syscall(SYS_sched_yield);
	syscall(SYS_alarm, 0);
	l = syscall(SYS_dup, 0);
	if (l >= 0) {
		syscall(SYS_fcntl, l, F_GETFD);
		syscall(SYS_lseek, l, 0, SEEK_CUR);
		syscall(SYS_fstat, l, buf);
		syscall(SYS_close, l);
	}
#if defined(__x86_64__)
	/* 32-bit compat entry from a 64-bit process: i386 20 = getpid, 64 = getppid
	 * (x86_64 20 = writev and 64 = semget must NOT be recorded). */
	{
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(64L) : "memory");
	}
#endif
}

static void *thread_list(void *arg)
{
	char buf[512];
	unsigned cpu, node;
	void *head;
	size_t len;
	(void)arg;
	syscall(SYS_get_robust_list, 0, &head, &len);
	syscall(SYS_getcpu, &cpu, &node, NULL);
	syscall(SYS_sched_getparam, 0, buf);
	syscall(SYS_ioprio_get, 1, 0);
	syscall(SYS_getrusage, 0, buf);
	{
		static char page[4096] __attribute__((aligned(4096)));
		unsigned char vec[1];
		syscall(SYS_mincore, page, sizeof page, vec);
	}
	return NULL;
}

static void grandchild_list(void)
{
	char buf[256];
	long fd;
	syscall(SYS_lgetxattr, "/", "user.spo-test", buf, sizeof buf);
	syscall(SYS_listxattr, "/", buf, sizeof buf);
	syscall(SYS_sysfs, 3);
	syscall(SYS_ustat, 0, buf);
	fd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	if (fd >= 0)
		close(fd);
	fd = syscall(SYS_eventfd2, 0, 0);
	if (fd >= 0)
		close(fd);
	fd = syscall(SYS_inotify_init1, 0);
	if (fd >= 0)
		close(fd);
	syscall(SYS_mq_getsetattr, -1, NULL, buf);
	syscall(SYS_fanotify_init, 0, 0);
}

static void after_exec_list(void)
{
	char buf[128];
	syscall(SYS_sched_rr_get_interval, 0, buf);
	syscall(SYS_getpgid, 0);
	syscall(SYS_sched_getattr, 0, buf, 48, 0);
	syscall(SYS_pkey_free, -1);
}

static int full(void)
{
	pthread_t t;
	pid_t child;
	int status;

	main_list();
	if (pthread_create(&t, NULL, thread_list, NULL) != 0)
		return 10;
	pthread_join(t, NULL);

	child = fork();
	if (child < 0)
		return 11;
	if (child == 0) {
		pid_t gc = fork();
		if (gc < 0)
			_exit(12);
		if (gc == 0) {
			grandchild_list();
			execl("/proc/self/exe", "exerciser", "--after-exec", (char *)NULL);
			_exit(13);
		}
		if (waitpid(gc, &status, 0) != gc || !WIFEXITED(status))
			_exit(14);
		_exit(WEXITSTATUS(status));
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 15;
	return WEXITSTATUS(status);
}

struct spo_open_how {
	unsigned long long flags, mode, resolve;
};

static int apparmor_mode(const char *dir)
{
	char p[4096];
	int fd, status;
	pid_t child;
	struct spo_open_how how = {O_RDONLY, 0, 0};
	snprintf(p, sizeof p, "%s/read", dir);
	fd = open(p, O_RDONLY);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/write", dir);
	fd = openat(AT_FDCWD, p, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/rw", dir);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/openat2", dir);
	fd = syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof how);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/missing", dir);
	fd = open(p, O_RDONLY);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/opath", dir);
	fd = open(p, O_PATH);
	if (fd >= 0)
		close(fd);
	fd = openat(AT_FDCWD, "relative", O_RDONLY);
	if (fd >= 0)
		close(fd);
	fd = syscall(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
	if (fd >= 0)
		close(fd);
	fd = syscall(SYS_socket, 10 /* AF_INET6 */, 2 /* SOCK_DGRAM */, 0);
	if (fd >= 0)
		close(fd);
	syscall(SYS_setpriority, 0 /* PRIO_PROCESS */, 0, -1);
	child = fork();
	if (child < 0)
		return 20;
	if (child == 0) {
		execlp("true", "true", (char *)NULL);
		_exit(21);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 22;
	if (WEXITSTATUS(status) != 0)
		return WEXITSTATUS(status);
	syscall(SYS_chroot, dir);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "full";
	if (strcmp(mode, "--after-exec") == 0) {
		after_exec_list();
		return 0;
	}
	if (strcmp(mode, "main-only") == 0) {
		main_list();
		return 0;
	}
	if (strcmp(mode, "noise") == 0) {
		char buf[256];
		time_t end = time(NULL) + (argc > 2 ? atoi(argv[2]) : 2);
		while (time(NULL) < end)
			syscall(SYS_sysinfo, buf);
		return 0;
	}
	if (strcmp(mode, "apparmor") == 0 && argc > 2)
		return apparmor_mode(argv[2]);
	if (strcmp(mode, "wait") == 0) {
		sigset_t set;
		int sig;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		/* tell the parent we are ready */
		write(1, "ready\n", 6);
		sigwait(&set, &sig);
		return full();
	}
	return full();
}

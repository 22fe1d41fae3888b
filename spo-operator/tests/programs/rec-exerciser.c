/* SPDX-License-Identifier: Apache-2.0
 *
 * The "container" of the recording tests (tests/recording.rs): makes known syscalls in two
 * phases, driven by files in DIR, so a test can restart the daemon between them.
 *
 *   rec-exerciser DIR [EXTRA]
 *
 * waits for DIR/go1; phase 1: getppid, sched_getscheduler, getpriority (+ EXTRA: 1 getresuid,
 * 2 getresgid, 3 getitimer); creates DIR/done1; waits for DIR/go2; phase 2 (in a forked child:
 * followed through forks): times, sysinfo; creates DIR/done2; waits for DIR/stop; exits 0.
 * Waiting polls with access(2) and nanosleep(2).
 * EXTRA 4 (AppArmor, RC-21): in phase 1 also opens DIR/aa-read (read) and DIR/aa-rw
 * (read-write, created), creates a TCP socket, lowers its nice value (CAP_SYS_NICE) and
 * runs /usr/bin/true in a child.
 * EXTRA 9 (figures): after go1, 2,000,000 getppid calls timed; the nanoseconds go to
 * DIR/loop-ns, then exit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void wait_for(const char *name)
{
	char p[4096];
	struct timespec ts = {0, 20 * 1000 * 1000};
	path(p, sizeof p, name);
	while (access(p, F_OK) != 0)
		nanosleep(&ts, NULL);
}

static void touch(const char *name)
{
	char p[4096];
	int fd;
	path(p, sizeof p, name);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char buf[512];
	unsigned r[3];
	int extra;
	pid_t child;
	if (argc < 2)
		return 2;
	dir = argv[1];
	extra = argc > 2 ? atoi(argv[2]) : 0;

	wait_for("go1");
	if (extra == 9) {
		struct timespec a, b;
		char p[4096];
		FILE *f;
		long i;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < 2000000; i++)
			syscall(SYS_getppid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		path(p, sizeof p, "loop-ns");
		f = fopen(p, "w");
		if (!f)
			return 1;
		fprintf(f, "%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
		fclose(f);
		return 0;
	}
	syscall(SYS_getppid);
	syscall(SYS_sched_getscheduler, 0);
	syscall(SYS_getpriority, 0, 0);
	if (extra == 1)
		syscall(SYS_getresuid, &r[0], &r[1], &r[2]);
	if (extra == 2)
		syscall(SYS_getresgid, &r[0], &r[1], &r[2]);
	if (extra == 3)
		syscall(SYS_getitimer, 0, buf);
	if (extra == 4) {
		char p[4096];
		int fd;
		pid_t c;
		path(p, sizeof p, "aa-read");
		fd = open(p, O_RDONLY);
		if (fd >= 0)
			close(fd);
		path(p, sizeof p, "aa-rw");
		fd = open(p, O_RDWR | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		fd = syscall(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
		if (fd >= 0)
			close(fd);
		syscall(SYS_setpriority, 0 /* PRIO_PROCESS */, 0, -1);
		c = fork();
		if (c == 0) {
			execl("/usr/bin/true", "true", (char *)NULL);
			_exit(1);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
	}
	touch("done1");

	wait_for("go2");
	child = fork();
	if (child == 0) {
		syscall(SYS_times, buf);
		syscall(SYS_sysinfo, buf);
		_exit(0);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	touch("done2");

	wait_for("stop");
	return 0;
}

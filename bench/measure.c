/*
 * measure RUNS COMMAND: run `sh -c COMMAND` RUNS times and print the best
 * wall-clock seconds, the peak resident set (KiB) of the run that was
 * best, and the exit status of the last run:  "SECONDS MAXRSS_KIB STATUS".
 * The command's standard output and error go to /dev/null unless it
 * redirects them itself.  The peak RSS is that of the largest process of the command's tree that
 * has been waited for (getrusage(RUSAGE_CHILDREN) semantics via wait4 on
 * the shell, whose own children are accounted to it).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double best = -1;
	long best_rss = 0;
	int status = 0;
	int runs;

	if (argc != 3 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: measure RUNS COMMAND\n");
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		struct timespec t0, t1;
		struct rusage ru;
		int st;
		pid_t pid;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid = fork();
		if (pid == 0) {
			/* Output of the measured command is not ours to print. */
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
			}
			execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
			return 2;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (best < 0 || secs < best) {
			best = secs;
			best_rss = ru.ru_maxrss;
		}
	}
	printf("%.6f %ld %d\n", best, best_rss, status);
	return 0;
}

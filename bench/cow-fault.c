/*
 * What a page costs a forked child on this machine: written through a copy-on-write fault (mode 0)
 * or copied ahead with madvise(MADV_POPULATE_WRITE) (mode 1), as the warm pool's compiled forker
 * does (docs/warm-pool.md, "Cost"). A parent maps and fills 10 MiB, then forks 50 times; each child
 * times N pages, every STRIDE-th one, and reports; the mean per page is printed.
 * Build and run: cc -O2 -o /tmp/cow-fault bench/cow-fault.c && for m in 0 1; do /tmp/cow-fault 80 $m 7; done
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: cow-fault N MODE(0 fault, 1 populate) STRIDE\n");
    return 2;
  }
  int n = atoi(argv[1]), mode = atoi(argv[2]), stride = atoi(argv[3]);
  size_t pages = 2560;
  if (n < 1 || stride < 1 || (size_t)n * stride > pages) {
    fprintf(stderr, "N * STRIDE must be 1..%zu\n", pages);
    return 2;
  }
  char *m = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  memset(m, 1, pages * 4096);
  double total = 0;
  int reps = 50;
  for (int r = 0; r < reps; r++) {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      double t = now_us();
      for (int i = 0; i < n; i++) {
        char *at = m + (size_t)i * stride * 4096;
        if (mode == 0) *at = 2;
        else madvise(at, 4096, 23 /* MADV_POPULATE_WRITE */);
      }
      double d = now_us() - t;
      if (write(p[1], &d, sizeof d) != sizeof d) _exit(1);
      _exit(0);
    }
    double d = 0;
    if (read(p[0], &d, sizeof d) != sizeof d) return 1;
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    total += d;
  }
  printf("%d pages, stride %d, %s: %.2f us a page\n", n, stride, mode ? "MADV_POPULATE_WRITE" : "copy-on-write fault", total / reps / n);
  return 0;
}

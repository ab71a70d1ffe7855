/* The few C library hooks newlib may reference. There is no heap: the runtime core never
   allocates, and this harness proves it: any malloc reaches _sbrk, which reports and
   fails the run. */
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

#include "harness.h"

void* _sbrk(ptrdiff_t increment) {
  (void)increment;
  pcls_puts("HEAP USED: malloc was called, but the firmware must not use the heap\n");
  pcls_exit(5);
}

void _exit(int code) { pcls_exit(code); }
int _kill(int pid, int sig) {
  (void)pid;
  (void)sig;
  errno = EINVAL;
  return -1;
}
int _getpid(void) { return 1; }
int _write(int fd, const char* buf, int len) {
  (void)fd;
  (void)buf;
  errno = ENOSYS;
  return len > 0 ? -1 : 0;
}
int _read(int fd, char* buf, int len) {
  (void)fd;
  (void)buf;
  (void)len;
  errno = ENOSYS;
  return -1;
}
int _close(int fd) {
  (void)fd;
  return -1;
}
int _fstat(int fd, struct stat* st) {
  (void)fd;
  st->st_mode = S_IFCHR;
  return 0;
}
int _isatty(int fd) {
  (void)fd;
  return 1;
}
int _lseek(int fd, int offset, int whence) {
  (void)fd;
  (void)offset;
  (void)whence;
  return -1;
}

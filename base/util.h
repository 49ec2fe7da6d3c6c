/* Small shared helpers: cleanup attributes, file I/O, atomic writes, process identity.
 * Used by every module; depends on nothing but libc and error.h. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
void strv_free(char **v);
static inline void strvp(char ***v) { strv_free(*v); }

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_strv_ __attribute__((cleanup(strvp)))

/* Move ownership out of a cleanup variable. */
#define TAKE_FD(fd)                                                                                  \
        ({                                                                                           \
                int _fd = (fd);                                                                      \
                (fd) = -EBADF;                                                                       \
                _fd;                                                                                 \
        })
#define TAKE_PTR(p)                                                                                  \
        ({                                                                                           \
                __typeof__(p) _p = (p);                                                              \
                (p) = NULL;                                                                          \
                _p;                                                                                  \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
size_t strv_len(char *const *v);
char **strv_copy(char *const *v);
/* Append a copy of s. */
void strv_push(char ***v, const char *s);
/* "a,b,c" (sep between elements); "" for an empty or NULL list. Caller frees. */
char *strv_join(char *const *v, const char *sep);
void *xrealloc(void *p, size_t n);

/* The path of the ctr binary (not the sealed memfd copy it may run from), NUL-terminated. */
ssize_t ctr_self_exe(char *buf, size_t len);

/* Read a whole regular file (at most max bytes, else -EFBIG) into a NUL-terminated buffer. Never
 * blocks on a FIFO: anything but a regular file is -EINVAL (-EISDIR for a directory). */
/* All of fd (a pipe too), up to max bytes (-EFBIG past it), NUL-terminated. */
int ctr_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
int ctr_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
int ctr_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same for a file ctr wrote and reads back (config.json, state.json, ctr.conf, the lease
 * file, a bundle's config.json): outside input, since whoever can write its directory can swap
 * it. A symlink is refused too; every refusal (symlink, not a regular file, over max) is -EINVAL,
 * as a malformed file's parse error is, and err says "read PATH: reason" under op. Other errors
 * keep their errno: -ENOENT (err filled) for callers that treat a missing file as empty. */
int ctr_read_record(const char *path, size_t max, const char *op, char **ret, size_t *ret_len, struct ctr_error *err);
/* Write a small string to an existing file (sysfs/cgroupfs style). Returns -errno. */
int ctr_write_file(const char *path, const char *s);
int ctr_write_file_at(int dirfd, const char *path, const char *s);
/* Write-temp-then-rename in the same directory, fsync'd. */
int ctr_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* The same without fsync, for runtime state that a reboot voids anyway (state.json under /run):
 * readers still see the old or the new file, never a half one. */
int ctr_write_atomic_volatile(const char *path, const char *data, size_t len, mode_t mode);

int ctr_mkdir_p(const char *path, mode_t mode);
/* Remove a tree without crossing mount points; refuses to follow symlinks. */
int ctr_rm_rf(const char *path);

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), so a
 * recycled pid is never mistaken for the one we recorded. 0 when the process is gone or a zombie. */
uint64_t ctr_proc_starttime(pid_t pid);
bool ctr_proc_alive(pid_t pid, uint64_t starttime);

int ctr_pidfd_open(pid_t pid, unsigned flags);

/* "512M" -> bytes. Accepts K, M, G, T suffixes (base 1024), optional trailing B/iB. */
int ctr_parse_size(const char *s, uint64_t *ret);
void ctr_format_size(uint64_t v, char *buf, size_t len);

/* Container names: 1-64 chars of [A-Za-z0-9_.-], starting with a letter or digit. */
bool ctr_name_valid(const char *name);
/* 8-4-4-4-12 lower-case hex. */
bool ctr_uuid_valid(const char *s);
/* A random (version 4) UUID; caller frees. */
char *ctr_uuid_new(void);

/* Look up a signal by name ("SIGTERM", "TERM", "SIGRTMIN+3", "15"). -1 when unknown. */
int ctr_signal_from_name(const char *name);
void ctr_signal_name(int sig, char *buf, size_t len);

/* Monotonic time in milliseconds. */
uint64_t ctr_now_ms(void);
uint64_t ctr_now_us(void);
int ctr_fd_set_cloexec(int fd);
int ctr_fd_set_nonblock(int fd, bool on);
/* write() all of it, retrying on EINTR/short writes. */
ssize_t ctr_write_all(int fd, const void *buf, size_t len);
/* dst (empty, open for writing) becomes a copy of src: a reflink where the filesystem shares
 * blocks, else src's data extents copied in the kernel, holes kept. -errno on failure. */
int ctr_file_clone(int src, int dst);
/* The same by path, through dst.tmp-PID renamed over dst (mode 0600). */
int ctr_file_clone_path(const char *src, const char *dst);

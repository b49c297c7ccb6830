/* C11 threads (<threads.h>) on top of POSIX threads, for ThreadSanitizer runs only (scripts/tsan.sh).
 *
 * librdkafka starts its threads with thrd_create and locks with mtx_* / cnd_*. glibc implements
 * those by calling its pthread internals directly, which neither GCC 12's nor clang 14's TSan
 * runtime intercepts: the threads run without TSan state (a crash in the first malloc) and their
 * locks are invisible (false races). Preloaded (LD_PRELOAD) into the tsan build's test processes,
 * these definitions take the place of glibc's and go through the intercepted pthread functions.
 * On glibc, mtx_t / cnd_t / once_flag have the layout of their pthread counterparts. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct start {
    thrd_start_t function;
    void* argument;
};

static void* trampoline(void* raw) {
    struct start start = *(struct start*)raw;
    free(raw);
    return (void*)(intptr_t)start.function(start.argument);
}

static int result(int code) {
    return code == 0           ? thrd_success
           : code == ENOMEM    ? thrd_nomem
           : code == ETIMEDOUT ? thrd_timedout
           : code == EBUSY     ? thrd_busy
                               : thrd_error;
}

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
    struct start* start = malloc(sizeof *start);
    if (start == NULL) {
        return thrd_nomem;
    }
    start->function = function;
    start->argument = argument;
    const int code = pthread_create((pthread_t*)thread, NULL, trampoline, start);
    if (code != 0) {
        free(start);
    }
    return result(code);
}

int thrd_join(thrd_t thread, int* exit_code) {
    void* value = NULL;
    const int code = pthread_join((pthread_t)thread, &value);
    if (code == 0 && exit_code != NULL) {
        *exit_code = (int)(intptr_t)value;
    }
    return result(code);
}

int thrd_detach(thrd_t thread) { return result(pthread_detach((pthread_t)thread)); }
thrd_t thrd_current(void) { return (thrd_t)pthread_self(); }
int thrd_equal(thrd_t a, thrd_t b) { return pthread_equal((pthread_t)a, (pthread_t)b); }

int mtx_init(mtx_t* mutex, int type) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
    const int code = pthread_mutex_init((pthread_mutex_t*)mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return result(code);
}
int mtx_lock(mtx_t* mutex) { return result(pthread_mutex_lock((pthread_mutex_t*)mutex)); }
int mtx_trylock(mtx_t* mutex) { return result(pthread_mutex_trylock((pthread_mutex_t*)mutex)); }
int mtx_timedlock(mtx_t* mutex, const struct timespec* until) {
    return result(pthread_mutex_timedlock((pthread_mutex_t*)mutex, until));
}
int mtx_unlock(mtx_t* mutex) { return result(pthread_mutex_unlock((pthread_mutex_t*)mutex)); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy((pthread_mutex_t*)mutex); }

int cnd_init(cnd_t* condition) { return result(pthread_cond_init((pthread_cond_t*)condition, NULL)); }
int cnd_signal(cnd_t* condition) { return result(pthread_cond_signal((pthread_cond_t*)condition)); }
int cnd_broadcast(cnd_t* condition) { return result(pthread_cond_broadcast((pthread_cond_t*)condition)); }
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
    return result(pthread_cond_wait((pthread_cond_t*)condition, (pthread_mutex_t*)mutex));
}
int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* until) {
    return result(pthread_cond_timedwait((pthread_cond_t*)condition, (pthread_mutex_t*)mutex, until));
}
void cnd_destroy(cnd_t* condition) { pthread_cond_destroy((pthread_cond_t*)condition); }

void call_once(once_flag* flag, void (*function)(void)) { pthread_once((pthread_once_t*)flag, function); }

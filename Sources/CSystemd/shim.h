#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/prctl.h>

// prctl(2) is variadic, which Swift cannot call; PR_SET_DUMPABLE takes one argument.
static inline int wbkeyd_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL);
}

static inline int wbkeyd_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
}

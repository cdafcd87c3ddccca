// die-with-parent PARENT_PID PROGRAM [ARG...]
//
// Asks the kernel to SIGKILL this process when the thread that spawned it ends
// (PR_SET_PDEATHSIG survives execve), checks that the parent is still PARENT_PID (it
// may have died before prctl ran), then becomes PROGRAM under the same pid. Test
// harnesses start daemons through it, so that a test process that crashes or is
// killed takes its daemons with it instead of leaving them running. Every descriptor
// above stderr is closed first: the test process's sockets (a test server's connection,
// a listener) must not live on in a daemon started beside them.

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: die-with-parent PARENT_PID PROGRAM [ARG...]\n");
        return 127;
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        fprintf(stderr, "die-with-parent: prctl(PR_SET_PDEATHSIG): %s\n", strerror(errno));
        return 127;
    }
    char *end = NULL;
    long parent = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0') {
        fprintf(stderr, "die-with-parent: PARENT_PID must be a number, got \"%s\"\n", argv[1]);
        return 127;
    }
    if ((long)getppid() != parent) {
        // The parent ended before the death signal was armed: follow it now.
        return 127;
    }
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        fprintf(stderr, "die-with-parent: close_range: %s\n", strerror(errno));
        return 127;
    }
    execv(argv[2], argv + 2);
    fprintf(stderr, "die-with-parent: cannot run %s: %s\n", argv[2], strerror(errno));
    return 127;
}

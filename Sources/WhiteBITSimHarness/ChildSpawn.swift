import Foundation

/// `posix_spawn` with the child's stdin, stdout and stderr on pipes, and a thread that
/// reaps it. The parent's pipe ends are close-on-exec so that no other child inherits them
/// (an inherited stdin write end would keep a simulator from seeing EOF).
enum ChildSpawn {
    struct Child {
        let pid: pid_t
        let stdinWriteEnd: Int32
        let stdoutReadEnd: Int32
        let stderrReadEnd: Int32
    }

    static func spawn(path: String, arguments: [String]) throws(SimProcessError) -> Child {
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            let code = errno
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw .spawnFailed(path: path, errno: code)
        }
        for fd in stdinPipe + stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto 0/1/2 clears close-on-exec for the child's copies only.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        // The child must see SIGTERM and SIGINT even if this process blocks or ignores them.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw .spawnFailed(path: path, errno: result)
        }
        return Child(pid: pid, stdinWriteEnd: stdinPipe[1], stdoutReadEnd: stdoutPipe[0], stderrReadEnd: stderrPipe[0])
    }

    /// Waits for the child on a thread of its own (a blocking waitpid needs no polling).
    static func reap(_ pid: pid_t, into exit: OneShot<SimProcess.Termination>) {
        let thread = Thread {
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, 0)
            } while result < 0 && errno == EINTR
            guard result == pid else {
                // Reaped by someone else: the child is gone, how is unknown.
                exit.fulfil(SimProcess.Termination(code: -1, bySignal: false))
                return
            }
            // The <sys/wait.h> macros, spelled out: low 7 bits are the signal, 0 for an exit.
            let signal = status & 0x7F
            exit.fulfil(
                signal == 0
                    ? SimProcess.Termination(code: (status >> 8) & 0xFF, bySignal: false)
                    : SimProcess.Termination(code: signal, bySignal: true))
        }
        thread.start()
    }
}

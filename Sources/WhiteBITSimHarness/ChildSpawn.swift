import Foundation

/// `posix_spawn` with the child's stdout and stderr on pipes (stdin on a pipe or on
/// /dev/null), and a thread that reaps it; both harnesses start their children with it.
/// The parent's pipe ends are close-on-exec so that no other child inherits them (an
/// inherited write end would keep EOF from ever coming: a simulator waiting for stdin EOF,
/// a reader waiting for a daemon's stdout to close).
package enum ChildSpawn {
    package enum StandardInput: Sendable {
        /// A pipe whose write end the parent keeps (`Child.stdinWriteEnd`).
        case pipe
        case devNull
    }

    package struct Child: Sendable {
        package let pid: pid_t
        /// Nil when stdin is /dev/null.
        package let stdinWriteEnd: Int32?
        package let stdoutReadEnd: Int32
        package let stderrReadEnd: Int32
    }

    package struct Failure: Error, Sendable {
        package let errno: Int32
    }

    /// Runs `argv` (its first element included) from `executable`. Close-on-exec is set right
    /// after pipe() (glibc's pipe2 is not visible to Swift): a spawn on another thread in
    /// between could still inherit an end, which is why `wbkeyd`'s harness spawns on one thread.
    package static func spawn(
        executable: String, argv: [String], environment: [String: String], standardInput: StandardInput
    ) throws(Failure) -> Child {
        var pipes: [[Int32]] = []
        for _ in 0..<(standardInput == .pipe ? 3 : 2) {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else {
                let code = errno
                for descriptor in pipes.joined() { close(descriptor) }
                throw Failure(errno: code)
            }
            pipes.append(ends)
        }
        for descriptor in pipes.joined() { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let stdinPipe = standardInput == .pipe ? pipes.removeFirst() : nil
        let stdoutPipe = pipes[0]
        let stderrPipe = pipes[1]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto 0/1/2 clears close-on-exec for the child's copies only.
        if let stdinPipe {
            posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        // The child must see SIGTERM, SIGINT, SIGPIPE and SIGHUP as usual even if this
        // process blocks or ignores them.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, cArguments, cEnvironment)
        for descriptor in [stdinPipe?[0], stdoutPipe[1], stderrPipe[1]] { if let descriptor { close(descriptor) } }
        guard result == 0 else {
            for descriptor in [stdinPipe?[1], stdoutPipe[0], stderrPipe[0]] { if let descriptor { close(descriptor) } }
            throw Failure(errno: result)
        }
        return Child(pid: pid, stdinWriteEnd: stdinPipe?[1], stdoutReadEnd: stdoutPipe[0], stderrReadEnd: stderrPipe[0])
    }

    /// Waits for the child on a thread of its own (a blocking waitpid needs no polling).
    package static func reap(_ pid: pid_t, into exit: OneShot<ProcessTermination>) {
        let thread = Thread {
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, 0)
            } while result < 0 && errno == EINTR
            // Reaped by someone else: the child is gone, how is unknown.
            exit.fulfil(result == pid ? ProcessTermination(waitStatus: status) : ProcessTermination(code: -1, bySignal: false))
        }
        thread.start()
    }
}

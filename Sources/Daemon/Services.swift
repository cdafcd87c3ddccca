import ControlSocket
import Foundation
import Logging
import ServiceLifecycle
import Spool
import Systemd
import UnixSignals

/// The scheduler's loop and the dispatch of what comes due: grant deadlines go to
/// the engine, the daemon's own timers to their jobs. One loop for everything.
struct SchedulerService: Service {
    let daemon: Daemon

    func run() async throws {
        let scheduler = daemon.scheduler
        await withDiscardingTaskGroup { group in
            group.addTask { await scheduler.run() }
            group.addTask {
                await withDiscardingTaskGroup { work in
                    for await timer in scheduler.due {
                        work.addTask { await daemon.fire(timer) }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// The WhiteBIT calls committed decisions asked for, each a child of this service's task
/// group: a graceful shutdown starts no new call, gives the calls out 10 s to answer and
/// commit their outcome, then cuts off the rest (their cancellation commits as a retry),
/// and returns only once every call and its commit are done.
struct CallService: Service {
    let daemon: Daemon

    func run() async throws {
        let engine = daemon.engine
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await gracefulShutdown()
                await engine.stopStartingCalls()
                await engine.waitUntilIdle(timeout: .seconds(10))
                await engine.client.shutdown()
            }
            for await pending in engine.calls {
                group.addTask { await engine.perform(pending.call, user: pending.user) }
            }
            // Halted (a write failed): nothing more goes to WhiteBIT, so the calls still
            // waiting for a turn are cut off now instead of being sent during the grace
            // period, where each answer would be lost (a spent code, a secret handed out).
            if await engine.haltReason != nil { group.cancelAll() }
        }
    }
}

/// inotify wake-ups of the spool's `new/`; the periodic rescan is a scheduler timer.
struct SpoolWatchService: Service {
    let daemon: Daemon

    func run() async throws {
        let watcher = try SpoolWatcher(spool: daemon.spool)
        defer { watcher.stop() }
        await cancelWhenGracefulShutdown {
            for await _ in watcher.wakeUps {
                await daemon.intake.scan()
            }
        }
    }
}

/// The spool census's background recount, once a second: what writers and operators
/// change in the spool shows in `status` within that second, and no request lists a
/// directory (see `SpoolCensus`).
struct SpoolCensusService: Service {
    let daemon: Daemon

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await daemon.intake.recount()
            }
        }
    }
}

/// The control socket; systemd hears READY=1 once it listens.
struct ControlService: Service {
    let daemon: Daemon
    let server: ControlServer

    func run() async throws {
        let dispatcher = daemon.dispatcher
        do {
            try await cancelWhenGracefulShutdown {
                try await server.run(
                    listening: { await daemon.ready() }, immediate: { line, _ in dispatcher.immediateAnswer(line) },
                    answering: { line, peer in await dispatcher.respond(line, peer: peer) })
            }
        } catch is CancellationError {
            // Graceful shutdown closed the socket: the normal way out.
        }
    }
}

/// Pings systemd's watchdog at half its interval, and only while the scheduler keeps
/// its time: a stalled daemon stops pinging, so systemd restarts it.
struct WatchdogService: Service {
    let daemon: Daemon
    let interval: Duration

    func run() async throws {
        let notifier = ServiceNotifier()
        let half = interval / 2
        await cancelWhenGracefulShutdown {
            var stalled = false
            while !Task.isCancelled {
                let sinceTick = await daemon.scheduler.lastTick.duration(to: .now)
                if sinceTick < half + .seconds(1) {
                    notifier.watchdogPing()
                    stalled = false
                } else if !stalled {
                    stalled = true
                    daemon.logger.critical(
                        "the scheduler has not kept its time for \(sinceTick); no more watchdog pings",
                        metadata: ["event": "watchdog_stalled"])
                }
                try? await Task.sleep(for: half)
            }
        }
    }
}

/// SIGHUP: reload the configuration (docs/design.md §8).
struct ReloadService: Service {
    let daemon: Daemon
    let signals: UnixSignalsSequence

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                await daemon.reload()
            }
        }
    }
}

import Foundation
import Glibc
import Testing
@testable import Systemd

/// These tests set process environment variables, so they run one at a time.
@Suite(.serialized) struct ServiceNotifierTests {
    func withEnvironment<T>(_ variables: [String: String], _ body: () throws -> T) rethrows -> T {
        for (key, value) in variables { setenv(key, value, 1) }
        defer { for key in variables.keys { unsetenv(key) } }
        return try body()
    }

    @Test(arguments: [false, true])
    func messagesReachARealListenerInOrder(abstract: Bool) throws {
        let listener = try NotifyListener(abstract: abstract)
        let notifier = ServiceNotifier()
        try withEnvironment(["NOTIFY_SOCKET": listener.address]) {
            #expect(notifier.isSupervised)
            #expect(notifier.ready(status: "3 active\nsecond line"))
            #expect(notifier.reloading(status: "reloading"))
            #expect(notifier.status("ready again"))
            #expect(notifier.stopping(status: "stopping"))
            #expect(notifier.failing(status: "store unwritable", errno: 28))
            #expect(listener.receive() == "READY=1\nSTATUS=3 active second line")
            let reloading = try #require(listener.receive()).split(separator: "\n")
            #expect(reloading.first == "RELOADING=1")
            let monotonic = try #require(reloading.first { $0.hasPrefix("MONOTONIC_USEC=") })
            let usec = try #require(UInt64(monotonic.dropFirst("MONOTONIC_USEC=".count)))
            #expect(usec > 0 && usec <= ServiceNotifier.monotonicMicroseconds())
            #expect(listener.receive() == "STATUS=ready again")
            #expect(listener.receive() == "STOPPING=1\nSTATUS=stopping")
            #expect(listener.receive() == "STATUS=store unwritable\nERRNO=28")
        }
    }

    @Test func aMultiLineFailureIsOneReadableStatusLine() {
        #expect(ServiceNotifier.statusLine("configuration refused:\n/etc/wbkeyd/wbkeyd.toml: control.bogus: unknown key\n/etc/wbkeyd/wbkeyd.toml: keys.x: unknown key\n")
            == "configuration refused: /etc/wbkeyd/wbkeyd.toml: control.bogus: unknown key; /etc/wbkeyd/wbkeyd.toml: keys.x: unknown key")
        #expect(ServiceNotifier.statusLine("store cannot be opened") == "store cannot be opened")
        #expect(ServiceNotifier.statusLine("a\n\n  b  \r\nc") == "a; b; c")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = ServiceNotifier()
        #expect(!notifier.isSupervised)
        #expect(notifier.ready(status: "x"))
    }

    @Test func watchdogIntervalComesFromTheEnvironmentForThisProcessOnly() {
        withEnvironment(["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid())"]) {
            #expect(ServiceNotifier().watchdogInterval() == .seconds(4))
        }
        withEnvironment(["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid() + 1)"]) {
            #expect(ServiceNotifier().watchdogInterval() == nil)
        }
        #expect(ServiceNotifier().watchdogInterval() == nil)
    }
}

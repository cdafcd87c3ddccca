import Foundation
import Glibc
import Testing
import WBKeydHarness

/// wbkeyd makes itself non-dumpable at start (prctl PR_SET_DUMPABLE 0), so a core dump
/// cannot carry its secrets and a same-uid process without CAP_SYS_PTRACE cannot read
/// its memory or environment through /proc. The test observes that last effect on the
/// real daemon. The kernel also lets a reader in only if it holds every capability the
/// target does, so under root both the targets and the reader run with none (setpriv):
/// then the dumpable flag alone decides.
@Suite struct CoreDumpGuardTests {
    static var capabilityFree: [String] {
        getuid() == 0 ? ["/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"] : []
    }

    static func launch(_ command: [String]) throws -> Process {
        let process = Process()
        let full = capabilityFree + command
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `cat /proc/PID/environ` with the test's uid and no capabilities; true if it read.
    static func sameUIDReaderCanRead(environOf pid: pid_t) throws -> Bool {
        let reader = try launch(["/bin/cat", "/proc/\(pid)/environ"])
        reader.waitUntilExit()
        return reader.terminationStatus == 0
    }

    @Test func theRunningDaemonIsNotDumpable() async throws {
        // The observable is real here: an ordinary process started the same way can be read.
        let ordinary = try Self.launch(["/bin/sleep", "60"])
        defer { ordinary.terminate() }
        // Until setpriv has exec'd sleep, the process still holds setpriv's capabilities.
        let execed = try await eventually(within: .seconds(10)) {
            (try? String(contentsOfFile: "/proc/\(ordinary.processIdentifier)/comm", encoding: .utf8)) == "sleep\n"
        }
        try #require(execed)
        #expect(try Self.sameUIDReaderCanRead(environOf: ordinary.processIdentifier))

        try await withPreparedDaemon { daemon in
            let wbkeyd = try Self.launch([try DaemonProcess.executablePath(), "--config", daemon.paths.configFile])
            defer {
                wbkeyd.terminate()
                wbkeyd.waitUntilExit()
            }
            let answering = try await eventually(within: .seconds(60)) {
                (try? await daemon.control("status", timeout: .seconds(5)))?.contains("ready") == true
            }
            try #require(answering, "wbkeyd did not come up")
            #expect(!(try Self.sameUIDReaderCanRead(environOf: wbkeyd.processIdentifier)), "wbkeyd is still dumpable")
        }
    }
}

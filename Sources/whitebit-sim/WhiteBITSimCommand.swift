import ArgumentParser
import BuildInfo
import Foundation
import Hummingbird
import Logging
import Sensitive
import ServiceLifecycle
import WhiteBITSim

@main
struct WhiteBITSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whitebit-sim",
        abstract: "A WhiteBIT OAuth (Fast API Key) simulator on loopback, for tests, demos and benchmarks.",
        discussion: """
            Prints `whitebit-sim listening on http://HOST:PORT` on stdout once bound; logs go to \
            stderr. Besides WhiteBIT's /auth/login and /oauth2/* endpoints and the account reads \
            (signed /api/v4/* and Bearer /api/v4/accounts/*) it serves its own \
            admin API under /sim/ (faults, switches for the API's unclear points, user actions, \
            state); docs/whitebit-sim.md is its contract. SIGTERM or SIGINT stops it.

            EXIT STATUS (one scheme for wbkeyd, wbkeyctl, whitebit-sim and
            wbkeyd-bench: 0, 1 and sysexits.h; see wbkeyd(1))
              0   stopped by SIGTERM or SIGINT
              1   it could not bind or serve (the message says why)
              64  usage error (EX_USAGE)
            """,
        version: BuildInfo.versionLine("whitebit-sim"))

    @Option(help: ArgumentHelp("Loopback address to bind (127.x.y.z, ::1 or localhost).", valueName: "address"))
    var host = "127.0.0.1"
    @Option(help: ArgumentHelp("Port to bind; 0 picks a free one.", valueName: "port"))
    var port = 0
    @Option(name: .customLong("client-id"), help: ArgumentHelp("The OAuth client registered at start.", valueName: "id"))
    var clientID = SimConfiguration.demoClientID
    @Option(
        name: .customLong("client-secret-file"),
        help: ArgumentHelp("File holding that client's secret (default: the secret is demo-client-secret).", valueName: "path"))
    var clientSecretFile: String?
    @Option(
        name: .customLong("redirect-uri"),
        help: ArgumentHelp("A redirect URI of that client; repeatable (default: \(SimConfiguration.demoRedirectURI)).", valueName: "uri"))
    var redirectURIs: [String] = []
    @Option(name: .customLong("token-lifetime"), help: ArgumentHelp("Access-token lifetime, e.g. 4h, 30s, 1500ms.", valueName: "duration"))
    var tokenLifetime = "4h"
    @Option(name: .customLong("code-lifetime"), help: ArgumentHelp("Authorization-code lifetime.", valueName: "duration"))
    var codeLifetime = "10m"
    @Option(name: .customLong("key-delay"), help: ArgumentHelp("How long after consent a key appears.", valueName: "duration"))
    var keyDelay = "0s"
    @Option(
        name: .customLong("key-inactivity"),
        help: ArgumentHelp("How long a key may go without a successful signed request before it is disabled.", valueName: "duration"))
    var keyInactivity = "14d"
    @Option(
        name: .customLong("rate-limit"),
        help: ArgumentHelp(
            "Per-IP budget of one scope per window, SCOPE=N; repeatable. Scopes: "
                + RateLimitSettings.Scope.allCases.map(\.rawValue).joined(separator: ", ")
                + " (default: WhiteBIT's documented limits, docs/whitebit-sim.md).",
            valueName: "scope=requests"))
    var rateLimits: [String] = []
    @Option(name: .customLong("rate-limit-window"), help: ArgumentHelp("The window the per-IP budgets apply to.", valueName: "duration"))
    var rateLimitWindow = "10s"
    @Option(help: ArgumentHelp("Seed for codes, tokens, key ids and secrets, so that runs repeat (default: random).", valueName: "number"))
    var seed: UInt64?
    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"
    @Flag(name: .customLong("exit-on-stdin-eof"), help: "Stop when stdin closes (a parent that dies takes the simulator with it).")
    var exitOnStdinEOF = false

    func validate() throws {
        guard Self.isLoopback(host) else { throw ValidationError("--host \(host) is not a loopback address") }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is out of range") }
        for (flag, text) in [
            ("--token-lifetime", tokenLifetime), ("--code-lifetime", codeLifetime), ("--key-delay", keyDelay),
            ("--key-inactivity", keyInactivity), ("--rate-limit-window", rateLimitWindow),
        ] where DurationText.milliseconds(text) == nil {
            throw ValidationError("\(flag) \(text) is not a duration like 500ms, 30s, 10m, 4h, 400d")
        }
        guard (DurationText.milliseconds(rateLimitWindow) ?? 0) > 0 else { throw ValidationError("--rate-limit-window must be longer than 0ms") }
        _ = try rateLimitSettings()
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is unknown") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "whitebit-sim")
        let world = SimulatedWhiteBIT(configuration: try simConfiguration())
        let host = self.host
        let app = WhiteBITSimServer.application(world: world, host: host, port: port, logger: logger) { port in
            let shown = host.contains(":") ? "[\(host)]" : host
            // FileHandle writes straight to fd 1: nothing lingers in a buffer.
            FileHandle.standardOutput.write(Data("whitebit-sim listening on http://\(shown):\(port)\n".utf8))
        }
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: app)]
        if exitOnStdinEOF {
            // When the watcher returns (stdin closed), the group shuts down as on SIGTERM.
            services.append(.init(service: StdinEOFWatcher(), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("whitebit-sim stopped")
    }

    private func simConfiguration() throws -> SimConfiguration {
        var secret = SimConfiguration.demoClientSecret
        if let path = clientSecretFile {
            guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw ValidationError("cannot read --client-secret-file \(path)")
            }
            secret = Sensitive(text.trimmingCharacters(in: .whitespacesAndNewlines))
            guard !secret.isEmpty else { throw ValidationError("--client-secret-file \(path) is empty") }
        }
        var settings = SimSettings()
        settings.tokenLifetimeMilliseconds = DurationText.milliseconds(tokenLifetime) ?? settings.tokenLifetimeMilliseconds
        settings.codeLifetimeMilliseconds = DurationText.milliseconds(codeLifetime) ?? settings.codeLifetimeMilliseconds
        settings.keyDelayMilliseconds = DurationText.milliseconds(keyDelay) ?? settings.keyDelayMilliseconds
        settings.keyInactivityMilliseconds = DurationText.milliseconds(keyInactivity) ?? settings.keyInactivityMilliseconds
        settings.rateLimit = try rateLimitSettings()
        let client = SimClient(
            id: clientID, secret: secret,
            redirectURIs: redirectURIs.isEmpty ? [SimConfiguration.demoRedirectURI] : redirectURIs)
        return SimConfiguration(defaultClient: client, settings: settings, seed: seed)
    }

    /// `--rate-limit` and `--rate-limit-window` over the documented defaults.
    private func rateLimitSettings() throws -> RateLimitSettings {
        var limits = RateLimitSettings()
        limits.windowMilliseconds = DurationText.milliseconds(rateLimitWindow) ?? limits.windowMilliseconds
        for entry in rateLimits {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let scope = RateLimitSettings.Scope(rawValue: parts[0]) else {
                let scopes = RateLimitSettings.Scope.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--rate-limit \(entry) must be SCOPE=N with SCOPE one of \(scopes)")
            }
            guard let requests = Int(parts[1]), requests >= 0 else {
                throw ValidationError("--rate-limit \(entry): the budget must be a whole number of requests, 0 or more")
            }
            limits.limits[scope] = requests
        }
        return limits
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }
}

/// Returns when stdin reaches EOF, or when the group shuts down for another reason. The
/// blocking read runs on a thread of its own; an AsyncStream carries the EOF over, and
/// iterating it ends on cancellation too.
struct StdinEOFWatcher: Service {
    func run() async throws {
        let (eof, continuation) = AsyncStream<Void>.makeStream()
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = read(0, &buffer, buffer.count)
                if count == 0 || (count < 0 && errno != EINTR) { break }
            }
            continuation.finish()
        }
        thread.start()
        await cancelWhenGracefulShutdown {
            for await _ in eof {}
        }
    }
}

import DaemonConfig
import MetricsHTTP
import ServiceLifecycle

/// The `[metrics]` listener (docs/design.md §8): `GET /metrics` serves what the control
/// socket's `metrics` does. Bound by `Daemon.bindMetrics` before the start-up work, so a
/// bad address stops the start before READY=1; stops with the group's graceful shutdown.
struct MetricsService: Service {
    let daemon: Daemon
    let server: MetricsHTTPServer
    let bound: MetricsHTTPServer.Bound

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await server.serve(bound) { try await daemon.metricsExposition().text }
            }
        } catch is CancellationError {
            // Graceful shutdown closed the listener: the normal way out.
        }
    }
}

extension Daemon {
    /// The exposition that the listener and the control socket's `metrics` both serve.
    func metricsExposition() async throws -> Exposition {
        try await Metrics.exposition(engine: engine, summary: summary, census: census, status: status)
    }

    /// The listener of `metrics.listen`, bound; nil when the key is empty (the default).
    func bindMetrics() async throws -> MetricsService? {
        let listen = settings.current.configuration.metrics
        guard let address = listen.listenAddress else { return nil }
        let server = MetricsHTTPServer(contentType: Metrics.contentType, logger: logger)
        let bound: MetricsHTTPServer.Bound
        do {
            bound = try await server.bind(host: address.host, port: address.port)
        } catch {
            throw DaemonFailure(reason: "metrics.listen \"\(address)\": cannot listen: \(error)")
        }
        let shown = address.host.contains(":") ? "[\(address.host)]:\(bound.port)" : "\(address.host):\(bound.port)"
        logger.notice("metrics listening on http://\(shown)/metrics", metadata: ["address": "\(shown)"])
        return MetricsService(daemon: self, server: server, bound: bound)
    }
}

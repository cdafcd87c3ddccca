import Hummingbird
import Logging
import NIOCore

/// The simulator as a Hummingbird application: WhiteBIT's endpoints and `/sim/` over one
/// `SimulatedWhiteBIT`.
public enum WhiteBITSimServer {
    /// An application bound to `host:port` (port 0: the system picks a free one) that calls
    /// `onListening` with the port it really got, once it accepts connections.
    public static func application(
        world: SimulatedWhiteBIT, host: String = "127.0.0.1", port: Int = 0, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: SimRequestContext.self)
        // Before the routes: a router's middleware wraps only the routes added after it.
        router.add(middleware: RateLimitMiddleware(world: world))
        WhiteBITRoutes(world: world).register(on: router)
        AccountRoutes(world: world, serve: FaultQueue(world: world)).register(on: router)
        AdminRoutes(world: world).register(on: router)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "whitebit-sim"),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { await onListening(port) }
            },
            logger: logger)
    }
}

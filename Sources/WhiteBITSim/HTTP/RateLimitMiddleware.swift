import Hummingbird

/// WhiteBIT's per-IP rate limit in front of every route but the admin API's, and in front
/// of unknown paths too: WhiteBIT counts a request whatever it asks for. The admin API is
/// the test's own channel, which a budget the test spends on purpose must not cut off.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = SimRequestContext
    let world: SimulatedWhiteBIT

    func handle(
        _ request: Request, context: SimRequestContext, next: (Request, SimRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path != "/sim", !path.hasPrefix("/sim/"), let source = context.sourceAddress else {
            return try await next(request, context)
        }
        let apiKey = request.headers[AccountRoutes.apiKeyHeader]
        if let refusal = await world.limitRate(source: source, path: path, apiKey: apiKey) { return refusal.response }
        return try await next(request, context)
    }
}

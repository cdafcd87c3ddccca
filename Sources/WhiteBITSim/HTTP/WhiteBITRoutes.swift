import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The WhiteBIT endpoints of API doc §2–§3.4 over the model, with the fault queue applied
/// to the four a partner's server calls.
struct WhiteBITRoutes: Sendable {
    let world: SimulatedWhiteBIT

    func register(on router: Router<SimRequestContext>) {
        router.get("/auth/login") { request, _ in
            await world.login(query: FormFields.parse(request.uri.query ?? "")).response
        }
        router.post("/oauth2/token") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let form = FormFields.parse(String(buffer: body))
            let user = await world.user(ofCode: form["code"])
            return try await serve(.token, user: user, context: context) {
                Served(answer: await world.exchangeCode(form: form))
            }
        }
        router.get("/oauth2/api-key/info") { request, context in
            let authorization = request.headers[.authorization]
            let user = await world.user(ofAuthorization: authorization)
            return try await serve(.info, user: user, context: context) {
                Served(answer: await world.apiKeyInfo(authorization: authorization))
            }
        }
        router.get("/oauth2/api-key/:externalId/secret") { request, context in
            let authorization = request.headers[.authorization]
            let externalID = context.parameters.get("externalId") ?? ""
            let user = await world.user(ofAuthorization: authorization)
            return try await serve(.secret, user: user, context: context) {
                let retrieval = await world.beginSecretRetrieval(authorization: authorization, externalID: externalID)
                return Served(answer: retrieval.answer, lockedKey: retrieval.lockedKey)
            }
        }
        router.delete("/oauth2/api-key/:externalId") { request, context in
            let authorization = request.headers[.authorization]
            let externalID = context.parameters.get("externalId") ?? ""
            let user = await world.user(ofAuthorization: authorization)
            return try await serve(.delete, user: user, context: context) {
                Served(answer: await world.deleteKey(authorization: authorization, externalID: externalID))
            }
        }
    }

    /// What serving a request produced: its answer, and the key lock a secret retrieval
    /// holds until the answer leaves.
    struct Served: Sendable {
        var answer: SimAnswer
        var lockedKey: String?
    }

    /// Runs a request through the fault queue. State changes commit when the request is
    /// served; a latency fault holds back only the answer (and any key lock with it).
    private func serve(
        _ endpoint: SimEndpoint, user: String?, context: SimRequestContext,
        _ work: @Sendable () async -> Served
    ) async throws -> Response {
        switch await world.admit(endpoint, user: user) {
        case .drop:
            await world.recordOutcome(endpoint, status: nil)
            try await context.dropConnection()
        case .answer(let answer):
            await world.recordOutcome(endpoint, status: answer.status)
            return answer.response
        case .serve(let latencyMilliseconds, let loseAnswer):
            let served = await work()
            if latencyMilliseconds > 0 {
                // Suspends this request only; the event loop keeps serving the others. A
                // shutdown cuts the wait short so that SIGTERM never waits on a fault.
                try? await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(latencyMilliseconds))
                }
            }
            if let lockedKey = served.lockedKey { await world.endSecretRetrieval(of: lockedKey) }
            if loseAnswer {
                await world.recordOutcome(endpoint, status: nil)
                try await context.dropConnection()
            }
            await world.recordOutcome(endpoint, status: served.answer.status)
            return served.answer.response
        }
    }
}

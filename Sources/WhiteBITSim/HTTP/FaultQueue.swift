import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The fault queue between a route and the model: a request is dropped, answered with an
/// injected status, or served (and its answer perhaps held back or lost).
struct FaultQueue: Sendable {
    let world: SimulatedWhiteBIT

    /// What serving a request produced: its answer, and the key lock a secret retrieval
    /// holds until the answer leaves.
    struct Served: Sendable {
        var answer: SimAnswer
        var lockedKey: String?
    }

    /// Runs a request through the fault queue. State changes commit when the request is
    /// served; a latency fault holds back only the answer (and any key lock with it).
    func run(
        _ endpoint: SimEndpoint, user: String?, context: SimRequestContext,
        _ work: @Sendable () async -> Served
    ) async throws -> Response {
        let source = context.sourceAddress
        switch await world.admit(endpoint, user: user) {
        case .drop:
            await world.recordOutcome(endpoint, status: nil)
            await world.logCall(endpoint, user: user, status: nil, source: source)
            try await context.dropConnection()
        case .answer(let answer):
            await world.recordOutcome(endpoint, status: answer.status)
            await world.logCall(endpoint, user: user, status: answer.status, source: source)
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
                await world.logCall(endpoint, user: user, status: nil, source: source)
                try await context.dropConnection()
            }
            await world.recordOutcome(endpoint, status: served.answer.status)
            await world.logCall(endpoint, user: user, status: served.answer.status, source: source)
            return served.answer.response
        }
    }
}

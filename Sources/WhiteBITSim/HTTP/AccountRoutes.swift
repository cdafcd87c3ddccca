import Foundation
import Hummingbird
import NIOCore

/// The account reads over HTTP: each one signed under `/api/v4/…` and with a Bearer token
/// under `/api/v4/accounts/…`, both through the fault queue.
struct AccountRoutes: Sendable {
    let world: SimulatedWhiteBIT
    let serve: FaultQueue

    static let apiKeyHeader = HTTPFields.Element.Name("X-TXC-APIKEY")!
    static let payloadHeader = HTTPFields.Element.Name("X-TXC-PAYLOAD")!
    static let signatureHeader = HTTPFields.Element.Name("X-TXC-SIGNATURE")!

    func register(on router: Router<SimRequestContext>) {
        for endpoint in AccountEndpoint.allCases {
            router.post(RouterPath(endpoint.signedPath)) { request, context in
                let body = try await Self.body(request, context)
                let signed = SignedRequest(
                    path: endpoint.signedPath, apiKey: request.headers[Self.apiKeyHeader],
                    payload: request.headers[Self.payloadHeader], signature: request.headers[Self.signatureHeader],
                    body: body, source: context.sourceAddress)
                let user = await world.user(ofAPIKey: signed.apiKey)
                return try await serve.run(.signed, user: user, context: context) {
                    .init(answer: await world.signedRequest(signed))
                }
            }
            router.post(RouterPath(endpoint.bearerPath)) { request, context in
                let body = try await Self.body(request, context)
                let authorization = request.headers[.authorization]
                let user = await world.user(ofAuthorization: authorization)
                return try await serve.run(.accounts, user: user, context: context) {
                    .init(answer: await world.accountRead(
                        path: endpoint.bearerPath, authorization: authorization, body: body))
                }
            }
        }
    }

    private static func body(_ request: Request, _ context: SimRequestContext) async throws -> [UInt8] {
        var request = request
        return Array(try await request.collectBody(upTo: context.maxUploadSize).readableBytesView)
    }
}

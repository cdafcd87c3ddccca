import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The WhiteBIT endpoints of API doc §2–§3.4 over the model, with the fault queue applied
/// to the four a partner's server calls.
struct WhiteBITRoutes: Sendable {
    let world: SimulatedWhiteBIT
    var serve: FaultQueue { FaultQueue(world: world) }

    func register(on router: Router<SimRequestContext>) {
        router.get("/auth/login") { request, _ in
            await world.login(query: FormFields.parse(request.uri.query ?? "")).response
        }
        router.post("/oauth2/token") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let form = FormFields.parse(String(buffer: body))
            let user = await world.user(ofCode: form["code"])
            return try await serve.run(.token, user: user, context: context) {
                FaultQueue.Served(answer: await world.exchangeCode(form: form))
            }
        }
        router.get("/oauth2/api-key/info") { request, context in
            let authorization = request.headers[.authorization]
            let user = await world.user(ofAuthorization: authorization)
            return try await serve.run(.info, user: user, context: context) {
                FaultQueue.Served(answer: await world.apiKeyInfo(authorization: authorization))
            }
        }
        router.get("/oauth2/api-key/:externalId/secret") { request, context in
            let authorization = request.headers[.authorization]
            let externalID = context.parameters.get("externalId") ?? ""
            let user = await world.user(ofAuthorization: authorization)
            return try await serve.run(.secret, user: user, context: context) {
                let retrieval = await world.beginSecretRetrieval(authorization: authorization, externalID: externalID)
                return FaultQueue.Served(answer: retrieval.answer, lockedKey: retrieval.lockedKey)
            }
        }
        router.delete("/oauth2/api-key/:externalId") { request, context in
            let authorization = request.headers[.authorization]
            let externalID = context.parameters.get("externalId") ?? ""
            let user = await world.user(ofAuthorization: authorization)
            return try await serve.run(.delete, user: user, context: context) {
                FaultQueue.Served(answer: await world.deleteKey(authorization: authorization, externalID: externalID))
            }
        }
    }
}

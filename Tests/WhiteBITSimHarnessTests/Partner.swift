import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Sensitive
import WhiteBITSimHarness

/// The partner's side of the documented calls, raw over HTTP, so tests see exactly what
/// the simulator sends back.
struct Partner {
    let sim: SimProcess
    var clientID = SimDefaults.clientID
    var clientSecret = SimDefaults.clientSecret.revealed

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: Data

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var data: [String: Any]? { json?["data"] as? [String: Any] }
        var message: String? { (data?["message"] as? [String])?.first }
    }

    func send(
        _ method: HTTPMethod, _ path: String, bearer: String? = nil, form: [String: String]? = nil,
        client: HTTPClient = .shared, from localAddress: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: sim.url(path))
        request.method = method
        // The connection's source address, which the simulator's per-IP limit goes by.
        request.localAddress = localAddress
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    func token(_ authorization: SimAuthorization) async throws -> Answer {
        try await token(code: authorization.code, verifier: authorization.verifier)
    }

    func token(code: Sensitive, verifier: Sensitive) async throws -> Answer {
        try await send(
            .POST, "/oauth2/token",
            form: [
                "client_id": clientID, "client_secret": clientSecret, "code": code.revealed,
                "code_verifier": verifier.revealed,
            ])
    }

    /// Consent and token exchange in one: the access token.
    func accessToken(user: String, key: SimKeyAppearance? = .now) async throws -> String {
        let answer = try await token(try await sim.admin.authorize(user: user, key: key))
        guard answer.status == 200, let token = answer.data?["access_token"] as? String else {
            throw PartnerError.unexpected("token exchange answered \(answer.status)")
        }
        return token
    }

    func info(_ token: String, from localAddress: String? = nil) async throws -> Answer {
        try await send(.GET, "/oauth2/api-key/info", bearer: token, from: localAddress)
    }

    func secret(_ token: String, _ externalID: String) async throws -> Answer {
        try await send(.GET, "/oauth2/api-key/\(externalID)/secret", bearer: token)
    }

    func delete(_ token: String, _ externalID: String) async throws -> Answer {
        try await send(.DELETE, "/oauth2/api-key/\(externalID)", bearer: token)
    }

    func externalID(_ token: String) async throws -> String {
        guard let externalID = try await info(token).data?["externalId"] as? String else {
            throw PartnerError.unexpected("info shows no key")
        }
        return externalID
    }

    static func encode(_ form: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.sorted { $0.key < $1.key }.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}

enum PartnerError: Error {
    case unexpected(String)
}

extension SimProcess {
    /// Returns once a slow secret request has reached the simulator: its key shows the
    /// retrieval in flight. Each check is a real request, so this waits on the server,
    /// not on a timer.
    func untilRetrievalInFlight(_ externalID: String) async throws {
        for _ in 0..<10_000 {
            if try await admin.state().key(externalID)?.retrievalInFlight == true { return }
            await Task.yield()
        }
        throw PartnerError.unexpected("the slow retrieval never reached the simulator")
    }
}

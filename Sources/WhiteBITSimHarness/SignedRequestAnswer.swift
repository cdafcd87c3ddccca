import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What `sign USER PATH [BODY] json` answers (docs/design.md §12): the URL, the exact body
/// and the headers of a signed request, which the partner application sends itself. The
/// demo and the benchmarks send it as such an application would.
public struct SignedRequestAnswer: Sendable, Decodable {
    public let url: String
    public let body: String
    public let headers: [String: String]

    /// Decodes the JSON line of `sign … json`; throws on anything else (an `error:` line).
    public init(json: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
    }

    /// POSTs the body byte for byte with the given headers; the status and the answer's text.
    public func send(httpClient: HTTPClient = .shared, timeout: Duration = .seconds(10)) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await httpClient.execute(request, timeout: .seconds(max(1, timeout.components.seconds)))
        let bytes = try await response.body.collect(upTo: 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

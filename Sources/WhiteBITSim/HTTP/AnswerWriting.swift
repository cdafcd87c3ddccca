import Foundation
import Hummingbird
import NIOCore

extension SimAnswer {
    /// The Hummingbird response that carries this answer.
    var response: Response {
        var fields = HTTPFields()
        let bytes: [UInt8]
        switch body {
        case .json(let value):
            fields[.contentType] = "application/json"
            bytes = Array(value.encoded())
        case .html(let page):
            fields[.contentType] = "text/html; charset=utf-8"
            bytes = Array(page.utf8)
        case .empty:
            bytes = []
        }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let fieldName = HTTPFields.Element.Name(name) { fields[fieldName] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Thrown by a route after it closed the connection on purpose: there is no answer to write.
struct ConnectionDropped: Error {}

extension SimRequestContext {
    /// Closes the TCP connection before anything of an answer is written, so the client sees
    /// the connection end (EOF) where its response should be.
    func dropConnection() async throws -> Never {
        try? await channel.close(mode: .all)
        throw ConnectionDropped()
    }
}

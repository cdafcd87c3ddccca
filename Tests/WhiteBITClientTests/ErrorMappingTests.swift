import AsyncHTTPClient
import Foundation
import NIOCore
import Sensitive
import Testing
@testable import WhiteBITClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func map(_ endpoint: Endpoint, _ status: Int, _ body: String, secrets: [Sensitive] = []) -> WhiteBITError {
    ErrorMapping.error(endpoint: endpoint, externalID: nil, status: status, body: Array(body.utf8), secrets: secrets)
}

@Suite struct ErrorMappingTests {
    @Test func everyDocumentedStatusOfTheSecretEndpoint() {
        let cases: [(Int, String, WhiteBITError.Kind, String)] = [
            (401, "Unauthorized.", .unauthorized, "401"),
            (403, "Forbidden.", .forbidden, "403"),
            (404, "Key not found.", .notFound, "404"),
            (409, "Secret already retrieved.", .secretAlreadyRetrieved, "409"),
            (423, "Temporary lock, retry shortly.", .locked, "423"),
        ]
        for (status, message, kind, code) in cases {
            let error = map(.secret, status, #"{"data":{"message":["\#(message)"]}}"#)
            #expect(error.kind == kind)
            #expect(error.messages == [message])
            #expect(error.httpStatus == status)
            #expect(error.description.contains(code))
            #expect(error.description.contains(message))
        }
    }

    @Test func theOtherStatuses() {
        #expect(map(.token, 401, #"{"data":{"message":["Invalid request"]}}"#).kind == .unauthorized)
        #expect(map(.token, 400, #"{"data":{"message":["Invalid grant."]}}"#).kind == .rejected(status: 400))
        #expect(map(.delete, 409, "{}").kind == .rejected(status: 409), "409 means 'already retrieved' only for the secret")
        #expect(map(.info, 429, "").kind == .rateLimited)
        #expect(map(.info, 302, "").kind == .rejected(status: 302))
        #expect(map(.info, 418, "").kind == .rejected(status: 418))
        for status in [500, 502, 503, 504] {
            #expect(map(.delete, status, "<html>Bad Gateway</html>").kind == .server(status: status))
        }
    }

    @Test func a422NamesTheFieldsSorted() {
        let error = map(.token, 422, """
            {"errors":{"code":["validation.required"],"client_secret":["validation.required"],"client_id":["validation.required"]},
             "notification":null}
            """)
        #expect(error.kind == .validation(fields: ["client_id", "client_secret", "code"]))
        #expect(error.description.contains("client_id, client_secret, code"))
        #expect(map(.token, 422, "{}").kind == .validation(fields: []))
    }

    @Test func messagesFromEveryKnownShape() {
        #expect(map(.info, 401, #"{"data":{"message":"Unauthorized."}}"#).messages == ["Unauthorized."])
        #expect(map(.info, 400, #"{"data":{"token":["Invalid token."]}}"#).messages.isEmpty)
        #expect(map(.token, 400, #"{"data":{"access_token":"T-9","message":[]}}"#).messages.isEmpty)
        #expect(map(.info, 400, #"{"success":false,"message":"Bad","params":[]}"#).messages == ["Bad"])
        #expect(map(.info, 500, "Internal Server Error").messages.isEmpty)
        #expect(map(.info, 500, #"{"data":{"message":[1,{"x":2}]}}"#).messages.isEmpty)
    }

    @Test func messagesAreCutToPrintableASCIIAndTruncated() {
        let error = map(.info, 401, #"{"data":{"message":["bad\u001b[31mred\nline\u00e9", "\#(String(repeating: "x", count: 500))","3","4","5","6"]}}"#)
        #expect(error.messages.count == ResponseText.maximumMessages)
        #expect(error.messages[0] == "bad?[31mred?line?")
        #expect(error.messages[1].count <= ResponseText.maximumMessageLength + 1)
        #expect(error.description.allSatisfy { $0.isASCII || $0 == "…" })
    }

    @Test func aMessageThatEchoesASecretOfTheRequestLosesIt() {
        let code = Sensitive("code-4711-abcdef")
        let error = map(.token, 400, #"{"data":{"message":["Invalid code code-4711-abcdef."]}}"#, secrets: [code])
        #expect(error.messages == ["Invalid code <redacted>."])
        let fieldEcho = map(.token, 422, #"{"errors":{"code-4711-abcdef":["x"]}}"#, secrets: [code])
        #expect(fieldEcho.kind == .validation(fields: ["<redacted>"]))
    }

    @Test func transienceFollowsTheKind() {
        let transient: [WhiteBITError.Kind] = [
            .transport(reason: "x"), .timeout, .server(status: 502), .rateLimited, .locked, .cancelled,
        ]
        let permanent: [WhiteBITError.Kind] = [
            .unauthorized, .forbidden, .notFound, .secretAlreadyRetrieved, .validation(fields: []),
            .rejected(status: 400), .malformedResponse(reason: "x"), .invalidRequest(reason: "x"),
        ]
        for kind in transient {
            #expect(WhiteBITError(endpoint: .info, kind: kind).isTransient, "\(kind)")
        }
        for kind in permanent {
            #expect(!WhiteBITError(endpoint: .info, kind: kind).isTransient, "\(kind)")
        }
    }

    @Test func theDescriptionNamesTheCallAndTheKey() {
        let error = WhiteBITError(endpoint: .secret, externalID: "550e8400-e29b", kind: .locked)
        #expect(error.description.hasPrefix("WhiteBIT GET /oauth2/api-key/550e8400-e29b/secret: 423"))
        #expect(error.localizedDescription == error.description)
        #expect((error as any Error).localizedDescription == error.description)
        #expect(WhiteBITError(endpoint: .token, kind: .timeout).description.hasPrefix("WhiteBIT POST /oauth2/token:"))
    }
}

@Suite struct TransportFailureTests {
    @Test func libraryErrorsMapToFixedKinds() {
        #expect(TransportFailure.kind(of: HTTPClientError.deadlineExceeded) == .timeout)
        #expect(TransportFailure.kind(of: HTTPClientError.readTimeout) == .timeout)
        #expect(TransportFailure.kind(of: HTTPClientError.connectTimeout) == .timeout)
        #expect(TransportFailure.kind(of: ChannelError.connectTimeout(.seconds(1))) == .timeout)
        #expect(TransportFailure.kind(of: HTTPClientError.cancelled) == .cancelled)
        #expect(TransportFailure.kind(of: CancellationError()) == .cancelled)
        #expect(TransportFailure.kind(of: HTTPClientError.remoteConnectionClosed)
            == .transport(reason: "connection closed without an answer"))
        #expect(TransportFailure.kind(of: ChannelError.eof) == .transport(reason: "connection closed without an answer"))
        #expect(TransportFailure.kind(of: IOError(errnoCode: ECONNREFUSED, reason: "connect"))
            == .transport(reason: "connection refused"))
        #expect(TransportFailure.kind(of: IOError(errnoCode: ECONNRESET, reason: "read"))
            == .transport(reason: "connection reset"))
        #expect(TransportFailure.kind(of: NIOTooManyBytesError(maxBytes: 1))
            == .malformedResponse(reason: "body larger than \(WhiteBITClient.maximumBodyBytes) bytes"))
    }

    @Test func anUnknownErrorIsNamedByItsTypeNotItsText() {
        struct SomethingOdd: Error, CustomStringConvertible {
            var description: String { "leaks TOKEN-SECRET" }
        }
        let kind = TransportFailure.kind(of: SomethingOdd())
        guard case .transport(let reason) = kind else {
            Issue.record("expected transport, got \(kind)")
            return
        }
        #expect(reason.contains("SomethingOdd"))
        #expect(!reason.contains("SECRET"))
    }
}

import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps what async-http-client and NIO throw to a `WhiteBITError.Kind`. The reasons are
/// fixed phrases: the libraries' own descriptions are not copied, since they are not ours
/// to vouch for (they may name a URL, a header or a peer).
enum TransportFailure {
    static func kind(of error: any Error) -> WhiteBITError.Kind {
        if error is CancellationError { return .cancelled }
        if let error = error as? HTTPClientError { return kind(of: error) }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return .transport(reason: "host name not resolved")
            }
            if let first = error.connectionErrors.first?.error {
                return kind(of: first)
            }
            return .transport(reason: "could not connect")
        }
        if let error = error as? IOError { return .transport(reason: reason(errno: error.errnoCode)) }
        if let error = error as? ChannelError { return kind(of: error) }
        if error is NIOTooManyBytesError {
            return .malformedResponse(reason: "body larger than \(WhiteBITClient.maximumBodyBytes) bytes")
        }
        let typeName = String(reflecting: type(of: error))
        if typeName.contains("NIOSSL") || typeName.contains("BoringSSL") {
            return .transport(reason: "TLS failure")
        }
        if typeName.contains("HTTPParserError") {
            return .transport(reason: "answer is not valid HTTP")
        }
        return .transport(reason: "network failure (\(typeName))")
    }

    private static func kind(of error: HTTPClientError) -> WhiteBITError.Kind {
        switch error {
        case .cancelled: .cancelled
        case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
             .getConnectionFromPoolTimeout:
            .timeout
        case .remoteConnectionClosed: .transport(reason: "connection closed without an answer")
        case .bodyLengthMismatch: .transport(reason: "connection closed in the middle of the answer")
        default: .transport(reason: "HTTP client failure")
        }
    }

    private static func kind(of error: ChannelError) -> WhiteBITError.Kind {
        switch error {
        case .connectTimeout: .timeout
        case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
            .transport(reason: "connection closed without an answer")
        default: .transport(reason: "channel failure")
        }
    }

    private static func reason(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset"
        case EPIPE: "connection closed while sending"
        case ETIMEDOUT: "connection timed out"
        case EHOSTUNREACH, ENETUNREACH: "host unreachable"
        // From bind(2) when no interface holds `source_address`; from connect(2) when the
        // local ports are exhausted.
        case EADDRNOTAVAIL: "local address not available (source address not on this host, or no free port)"
        default: "I/O error (errno \(code))"
        }
    }
}

import Hummingbird
import NIOCore

/// The request context of the simulator's routes. It keeps the connection's channel so
/// that the `drop` and `lost_secret` faults can close it without writing an answer.
public struct SimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// The client's IP address: the peer of the TCP connection, which the per-IP rate
    /// limit and the key logs go by.
    var sourceAddress: String? { channel.remoteAddress?.ipAddress }

    /// Token requests and admin bodies are small; refuse anything large early.
    public var maxUploadSize: Int { 64 * 1024 }
}

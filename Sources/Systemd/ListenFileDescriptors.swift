import CSystemd
import Glibc

/// Sockets handed over by systemd socket activation (`LISTEN_FDS`, `LISTEN_FDNAMES`).
public struct ListenFileDescriptor: Sendable, Equatable {
    public var descriptor: Int32
    public var name: String
}

public enum SocketActivation {
    /// Takes the passed sockets and unsets the variables, so that child processes
    /// do not believe the sockets are theirs. Empty when not socket-activated.
    public static func takeListenFileDescriptors() -> [ListenFileDescriptor] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        defer {
            if let names {
                for index in 0..<Int(count) { free(names[index]) }
                free(names)
            }
        }
        return (0..<Int(count)).map { index in
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            return ListenFileDescriptor(descriptor: SD_LISTEN_FDS_START + Int32(index), name: name)
        }
    }
}

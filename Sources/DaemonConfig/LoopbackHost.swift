#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hosts whose traffic never leaves the machine: 127.0.0.0/8, ::1 and `localhost`. Only
/// literal addresses and the one name count; a name that merely resolves to 127.0.0.1
/// today (`127.0.0.1.nip.io`) may resolve elsewhere tomorrow.
enum LoopbackHost {
    static func contains(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "localhost." { return true }
        var v4 = in_addr()
        // inet_pton takes only the dotted quad, not `127.1` or `0x7f.1`, which URL
        // parsers disagree about.
        if inet_pton(AF_INET, name, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }
}

/// Literal IP addresses as `inet_pton` reads them (the dotted quad only, no `127.1`).
enum IPLiteral {
    static func isIPv4(_ text: String) -> Bool {
        var v4 = in_addr()
        return inet_pton(AF_INET, text, &v4) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var v6 = in6_addr()
        return inet_pton(AF_INET6, text, &v6) == 1
    }

    /// `0.0.0.0` or `::`: every interface.
    static func isUnspecified(_ text: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return v4.s_addr == 0 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { $0.allSatisfy { $0 == 0 } } }
        return false
    }
}

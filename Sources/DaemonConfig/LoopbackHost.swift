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

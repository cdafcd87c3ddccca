import CExtendedAttributes
#if canImport(Glibc)
import Glibc
#endif

/// A file's POSIX access ACL as the kernel stores it in `system.posix_acl_access`:
/// a little-endian version 2 header, then 8-byte entries (tag, permissions, id). Read
/// from the open descriptor, so it is the ACL of the file whose bytes are read.
struct PosixACL: Sendable, Equatable {
    enum Tag: UInt16, Sendable {
        case userObject = 0x01
        case user = 0x02
        case groupObject = 0x04
        case group = 0x08
        case mask = 0x10
        case other = 0x20
    }

    struct Entry: Sendable, Equatable {
        let tag: Tag
        /// rwx as 4, 2, 1.
        let permissions: UInt16
        /// The uid or gid of a named entry; meaningless for the others.
        let id: UInt32
    }

    let entries: [Entry]

    init?(bytes: [UInt8]) {
        func little16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func little32(_ at: Int) -> UInt32 { UInt32(little16(at)) | UInt32(little16(at + 2)) << 16 }
        guard bytes.count >= 4, (bytes.count - 4) % 8 == 0, little32(0) == 2 else { return nil }
        var entries: [Entry] = []
        for offset in stride(from: 4, to: bytes.count, by: 8) {
            guard let tag = Tag(rawValue: little16(offset)) else { return nil }
            entries.append(Entry(tag: tag, permissions: little16(offset + 2), id: little32(offset + 4)))
        }
        self.entries = entries
    }

    /// The ACL of an open file; nil when it has none beyond its mode bits (or the file
    /// system keeps none).
    static func of(descriptor: Int32) -> PosixACL? {
        var buffer = [UInt8](repeating: 0, count: 4 + 8 * 64)
        let count = buffer.withUnsafeMutableBytes { fgetxattr(descriptor, "system.posix_acl_access", $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return PosixACL(bytes: Array(buffer.prefix(count)))
    }

    /// Why this ACL lets anyone but the file's owner and `reader` in, or nil when it
    /// does not: the shape systemd (254 and later, on tmpfs) gives a credential, where
    /// the mode's group bits are the ACL mask over one named entry for the service user.
    func accessBeyond(owner reader: uid_t) -> String? {
        for entry in entries {
            switch entry.tag {
            case .user where entry.id != reader:
                return "its ACL lets uid \(entry.id) read it"
            case .group:
                return "its ACL lets gid \(entry.id) read it"
            case .groupObject where entry.permissions != 0:
                return "its ACL lets the file's group read it"
            case .other where entry.permissions != 0:
                return "its ACL lets others read it"
            case .mask where entry.permissions & 0o2 != 0, .user where entry.permissions & 0o2 != 0:
                return "its ACL lets a named user write it"
            default:
                continue
            }
        }
        return nil
    }
}

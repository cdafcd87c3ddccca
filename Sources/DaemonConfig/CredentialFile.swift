import Foundation
import Sensitive

/// A credential file that was refused. It names the config key and the file, and says
/// why in terms of the file's kind, mode or size: never a byte of what the file holds.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        case file(FileReadFailure)
        case accessibleByOthers(permissions: UInt16)
        case aclGrantsOthers(permissions: UInt16, reason: String)
        case empty
        case notSingleLineText
        case masterKeyLooksLikeText
        case masterKeyFormat(byteCount: Int)

        public var description: String {
            switch self {
            case .file(let failure):
                "\(failure)"
            case .accessibleByOthers(let permissions):
                "is readable or writable by group or others (mode \(SocketMode(permissions))); chmod 0600 or 0400"
            case .aclGrantsOthers(let permissions, let reason):
                "is readable by more than wbkeyd (mode \(SocketMode(permissions)), \(reason)); only the ACL systemd gives a credential is accepted"
            case .empty:
                "is empty"
            case .notSingleLineText:
                "must be one line of UTF-8 text without control characters"
            case .masterKeyLooksLikeText:
                "holds 32 printable characters, which look like a short hex or base64 key, not 32 random bytes"
            case .masterKeyFormat(let byteCount):
                "must hold 32 raw bytes, 64 hex digits or the base64 of 32 bytes (it holds \(byteCount) bytes)"
            }
        }
    }

    public let key: String
    public let path: String
    public let reason: Reason

    public init(key: String, path: String, reason: Reason) {
        self.key = key
        self.path = path
        self.reason = reason
    }

    /// `store.master_key_file: /run/credentials/…/master-key is readable by …`
    public var description: String { "\(key): \(path) \(reason)" }
}

/// The 32-byte key that seals secrets in the store. Like `Sensitive`, it never prints.
public struct MasterKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Reads the client secret, the master key and the PostgreSQL password. A credential that others on the machine
/// could read is no secret, so group and other read/write bits are refused outright, as
/// are links (which could point anywhere) and anything but a regular file.
///
/// One exception, for systemd 254 and later: in `$CREDENTIALS_DIRECTORY` (a tmpfs) it
/// writes each credential `0400 root` plus an ACL entry that lets the service user read
/// it, and `stat` shows that ACL's mask as the group bits (`0440`). Such a file is
/// accepted when its ACL gives read to this process's own uid and to no one else: no
/// other named user or group, nothing for the owning group or others, no write. A
/// plain file with group bits, or any file outside `$CREDENTIALS_DIRECTORY`, is still
/// refused.
public enum CredentialFile {
    static let maxBytes = 16 * 1_024

    /// The file's text without its trailing newline.
    public static func readClientSecret(at location: CredentialLocation) throws(CredentialError) -> Sensitive {
        var bytes = try readProtected(location)
        // On bytes, not characters: to Swift, "\r\n" is one Character.
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CredentialError(key: location.key, path: location.path, reason: .notSingleLineText)
        }
        guard !text.isEmpty else { throw CredentialError(key: location.key, path: location.path, reason: .empty) }
        let controlFree = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        guard controlFree else {
            throw CredentialError(key: location.key, path: location.path, reason: .notSingleLineText)
        }
        return Sensitive(text)
    }

    /// `store.password_file`: one line of text like the client secret (trailing newline
    /// dropped); never printed, since it is `Sensitive`.
    public static func readStorePassword(at location: CredentialLocation) throws(CredentialError) -> Sensitive {
        try readClientSecret(at: location)
    }

    /// 32 raw bytes, 64 hex digits, or base64 of 32 bytes; whitespace around the text forms
    /// is ignored.
    public static func readMasterKey(at location: CredentialLocation) throws(CredentialError) -> MasterKey {
        let bytes = try readProtected(location)
        do {
            return try decodeMasterKey(bytes)
        } catch {
            throw CredentialError(key: location.key, path: location.path, reason: error)
        }
    }

    static func decodeMasterKey(_ bytes: [UInt8]) throws(CredentialError.Reason) -> MasterKey {
        if bytes.isEmpty { throw .empty }
        if bytes.count == MasterKey.byteCount {
            // 32 random bytes are all printable with odds of about 1 in 10^14; a file that
            // is, is almost surely a hex or base64 key of the wrong length.
            if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) { throw .masterKeyLooksLikeText }
            return MasterKey(bytes: bytes)!
        }
        let text = trimmingASCIIWhitespace(bytes)
        if text.count == 2 * MasterKey.byteCount, let decoded = hexDecoded(text) {
            return MasterKey(bytes: decoded)!
        }
        if let string = String(validating: text, as: UTF8.self),
           let data = Data(base64Encoded: string),
           let key = MasterKey(bytes: [UInt8](data)) {
            return key
        }
        throw .masterKeyFormat(byteCount: bytes.count)
    }

    private static func readProtected(_ location: CredentialLocation) throws(CredentialError) -> [UInt8] {
        let contents: RegularFile.Contents
        do {
            contents = try RegularFile.read(path: location.path, followSymlinks: false, maxBytes: maxBytes)
        } catch {
            throw CredentialError(key: location.key, path: location.path, reason: .file(error))
        }
        guard contents.permissions & 0o066 != 0 else { return contents.bytes }
        // Group read and nothing else, under $CREDENTIALS_DIRECTORY, with an ACL: systemd's mask.
        guard location.source == .credentialsDirectory, contents.permissions & 0o026 == 0, let acl = contents.acl else {
            throw CredentialError(key: location.key, path: location.path, reason: .accessibleByOthers(permissions: contents.permissions))
        }
        if let reason = acl.accessBeyond(owner: geteuid()) {
            throw CredentialError(key: location.key, path: location.path, reason: .aclGrantsOthers(permissions: contents.permissions, reason: reason))
        }
        return contents.bytes
    }

    private static func trimmingASCIIWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(bytes[first...last])
    }

    private static func hexDecoded(_ text: [UInt8]) -> [UInt8]? {
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x61...0x66: byte - 0x61 + 10
            case 0x41...0x46: byte - 0x41 + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(text.count / 2)
        var index = 0
        while index + 1 < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            decoded.append(high << 4 | low)
            index += 2
        }
        return decoded
    }
}

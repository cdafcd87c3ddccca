import Foundation

/// `store.backend`: where grants, sealed secrets and the audit log live (docs/design.md §13).
public enum StoreBackend: String, Sendable, Hashable, CaseIterable {
    /// One file on this machine (`store.path`): the default.
    case sqlite
    /// A PostgreSQL database (`store.url`) that several instances may share.
    case postgresql
}

/// `store.instance`: a short name that tells instances sharing one database apart; it is
/// written into rows and shown by `status`, so it is kept to a safe alphabet.
public enum StoreInstance {
    public static let maxLength = 63

    /// Why `text` cannot be an instance name; nil when it can.
    public static func problem(_ text: String) -> String? {
        guard text.utf8.count <= maxLength else { return "longer than \(maxLength) characters" }
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "\"\(text.prefix(80))\" may hold only letters, digits, -, _ and ."
    }

    /// gethostname(2): the default name.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

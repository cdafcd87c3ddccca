import Foundation
import Glibc

/// What a rejected file keeps: the shape for the operator, never a code, verifier or
/// state in clear (rejected/ is kept for weeks; the secrets are only good for minutes,
/// but nothing else stores them in clear either).
enum RejectedContent {
    static let marker = "<blanked>"
    /// Fields whose values are kept as delivered: none of them is a secret.
    static let keptFields: Set<String> = ["type", "user", "received_at", "api_key", "reason"]

    /// A JSON object keeps its keys; every value but those of `keptFields` becomes
    /// `"<blanked>"`. Anything else (not JSON, not an object, not UTF-8) is replaced by
    /// one line saying how long it was: it cannot be told apart from a secret.
    static func blanked(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.isEmpty { return [] }
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            var shown: [String: Any] = [:]
            for (key, value) in object { shown[key] = keptFields.contains(key) ? value : marker }
            if let data = try? JSONSerialization.data(withJSONObject: shown, options: [.sortedKeys, .withoutEscapingSlashes]) {
                return Array(data) + [UInt8(ascii: "\n")]
            }
        }
        return unparsable(size: bytes.count)
    }

    static func unparsable(size: Int) -> [UInt8] {
        Array("<blanked: \(size) bytes that are not a spool JSON object, not kept since they may hold a code or verifier>\n".utf8)
    }

    /// The blanked content of a regular file, or nil when `path` is no regular file
    /// wbkeyd can open (a link, a FIFO, a file only its writer may read): such a file is
    /// moved as it is.
    static func blanked(fileAt path: SpoolPath) -> [UInt8]? {
        // Not even opened unless it is a regular file: opening a FIFO or a device can have effects.
        guard case .success(let entry) = FileSystem.status(path), entry.fileType == S_IFREG else { return nil }
        let descriptor = open(path.cString, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.fileType == S_IFREG else { return nil }
        let limit = SpoolDirectory.maximumFileSize
        if Int(status.st_size) > limit { return unparsable(size: Int(status.st_size)) }
        switch SpoolDirectory.readBounded(descriptor, limit: limit) {
        case .failure: return unparsable(size: Int(status.st_size))
        case .success(let bytes) where bytes.count > limit: return unparsable(size: bytes.count)
        case .success(let bytes): return blanked(bytes)
        }
    }
}

import Lifecycle
import Crypto
import Foundation

/// The hash chain of the `audit` table: what each row's `hash` is computed over. Outside
/// auditors re-implement this, so the encoding below is a contract: changing it breaks
/// every existing log.
///
/// `hash` is the lowercase hex SHA-256 of the concatenation of these eight fields, in
/// this order:
///
///     prev_hash, seq, at, event, user, external_id, actor, detail
///
/// each encoded as:
///
///     NULL  -> the single byte 0x00
///     text  -> the byte 0x01, the text's UTF-8 byte length as 4 bytes unsigned big-endian,
///              then those UTF-8 bytes
///
/// where `seq` is written as its decimal text without sign or leading zeros ("1", "42"),
/// `prev_hash` as its 64 lowercase hex characters, and every other field exactly as stored
/// in its column (`detail` is hashed as the stored JSON text, so no JSON canonicalisation
/// is needed to check it). Only `user` and `external_id` can be NULL. The first row of a
/// log has `prev_hash` = 64 × "0". In Python:
///
///     def field(v):
///         if v is None: return b"\x00"
///         b = str(v).encode()
///         return b"\x01" + len(b).to_bytes(4, "big") + b
///     sha256(b"".join(map(field, (prev_hash, seq, at, event, user, external_id, actor, detail)))).hexdigest()
public enum AuditChain {
    public static let genesisPrevHash = String(repeating: "0", count: 64)

    public static func hash(
        prevHash: String, seq: Int64, at: String, event: String, user: String?, externalId: String?,
        actor: String, detail: String
    ) -> String {
        var message: [UInt8] = []
        message.reserveCapacity(256 + detail.utf8.count)
        for field in [prevHash, String(seq), at, event, user, externalId, actor, detail] {
            guard let field else {
                message.append(0x00)
                continue
            }
            let length = UInt32(field.utf8.count)
            message.append(0x01)
            message.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) })
            message.append(contentsOf: field.utf8)
        }
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: message) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// `at` column text: RFC 3339, UTC, milliseconds, e.g. `2025-03-01T12:00:05.042Z`. Fixed
/// width, so text order is time order, which pruning relies on.
public enum AuditTimestamp {
    public static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (seconds, milliseconds) = floorDivision(totalMilliseconds, 1000)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-"
            + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2)
            + ":" + pad(Int(parts.tm_sec), 2) + "." + pad(Int(milliseconds), 3) + "Z"
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// The newest row of the chain: what the journal witness and `status` show.
public struct AuditHead: Sendable, Hashable {
    public let seq: Int64
    public let hash: String

    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }
}

/// One row of the `audit` table as stored. `detail` is the stored JSON object text.
public struct AuditRow: Sendable, Hashable {
    public let seq: Int64
    public let at: String
    public let event: AuditEvent
    public let user: String?
    public let externalId: String?
    public let actor: AuditActor
    public let detail: String
    public let prevHash: String
    public let hash: String

    public var head: AuditHead { AuditHead(seq: seq, hash: hash) }
}

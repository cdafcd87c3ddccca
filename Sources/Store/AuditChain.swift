import GrantLifecycle
import Crypto
import Foundation

/// The hash chain of the `audit` table: what each row's `hash` is computed over. Outside
/// auditors re-implement this, so the encoding below is a contract: changing it breaks
/// every existing log.
///
/// `hash` is the lowercase hex HMAC-SHA256, under the store's audit chain key (see
/// `StoreKeyring` and docs/audit.md), of the concatenation of these eight fields, in this
/// order (rows written before the chain was keyed, the legacy prefix, use plain SHA-256 of
/// the same bytes):
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
///     message = b"".join(map(field, (prev_hash, seq, at, event, user, external_id, actor, detail)))
///     hmac.new(chain_key, message, sha256).hexdigest()     # legacy rows: sha256(message).hexdigest()
public enum AuditChain {
    public static let genesisPrevHash = String(repeating: "0", count: 64)

    /// `key` nil computes a legacy (unkeyed) row's hash; only the verifier does that.
    public static func hash(
        prevHash: String, seq: Int64, at: String, event: String, user: String?, externalID: String?,
        actor: String, detail: String, key: AuditChainKey?
    ) -> String {
        var message: [UInt8] = []
        message.reserveCapacity(256 + detail.utf8.count)
        for field in [prevHash, String(seq), at, event, user, externalID, actor, detail] {
            guard let field else {
                message.append(0x00)
                continue
            }
            let length = UInt32(field.utf8.count)
            message.append(0x01)
            message.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) })
            message.append(contentsOf: field.utf8)
        }
        if let key {
            return hexText(HMAC<SHA256>.authenticationCode(for: message, using: key.key))
        }
        return hexText(SHA256.hash(data: message))
    }

    static func hexText(_ bytes: some Sequence<UInt8>) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in bytes {
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

    /// The inverse of `format`; nil for text that is not in that exact shape.
    public static func parse(_ text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count == 24, digits[4] == 0x2D, digits[7] == 0x2D, digits[10] == 0x54, digits[13] == 0x3A,
            digits[16] == 0x3A, digits[19] == 0x2E, digits[23] == 0x5A
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for digit in digits[range] {
                guard (0x30...0x39).contains(digit) else { return nil }
                value = value * 10 + Int(digit - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), let millisecond = number(20..<23)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millisecond) / 1000)
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
    public let externalID: String?
    public let actor: AuditActor
    public let detail: String
    public let prevHash: String
    public let hash: String

    public var head: AuditHead { AuditHead(seq: seq, hash: hash) }
}

/// The 32-byte key that HMACs the audit chain. Random, made once per store, and kept in the
/// store sealed under the master key, so only a holder of the master key can extend the
/// chain, and rotating the master key (`wbkeyd rewrap`) re-seals it instead of changing it:
/// the rows already written stay verifiable.
public struct AuditChainKey: Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey) { self.key = key }

    /// A fresh random key.
    static func random() -> AuditChainKey { AuditChainKey(key: SymmetricKey(size: .bits256)) }

    /// For tests and tools that hold the raw bytes (32).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        key = SymmetricKey(data: bytes)
    }

    var hexText: String { key.withUnsafeBytes { AuditChain.hexText($0) } }

    /// The MAC of a witnessed head (`STORE.witness`): HMAC-SHA256 of "wbkeyd witness" 0x00
    /// seq 0x00 hash, as hex.
    public func witnessMAC(seq: Int64, hash: String) -> String {
        AuditChain.hexText(HMAC<SHA256>.authenticationCode(for: Data("wbkeyd witness\u{0}\(seq)\u{0}\(hash)".utf8), using: key))
    }
}

extension AuditChainKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "AuditChainKey(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

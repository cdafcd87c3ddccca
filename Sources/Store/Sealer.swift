import Crypto
import Foundation
import Sensitive

/// Seals secrets for the store with AES-256-GCM.
///
/// The cipher key is derived from the master key with HKDF-SHA256 (no salt, info
/// "wbkeyd seal v1"), so the master key itself never keys a cipher and a later format can
/// derive its own key from the same file. Sealed format, version 2 (what `seal` writes):
///
///     0x02 || key id (8 bytes) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
///
/// and version 1 (written before key ids existed; still opened):
///
///     0x01 || nonce (12 random bytes) || ciphertext || tag (16 bytes)
///
/// with `SealBinding.associatedData(version:)` as the associated data. The key id names the
/// master key that sealed the box (see `MasterKeyID`), so a box under another key is
/// reported as such, and `wbkeyd rewrap` can tell which boxes it has moved.
public struct Sealer: Sendable {
    public static let formatVersion: UInt8 = 2
    static let legacyFormatVersion: UInt8 = 1
    static let nonceByteCount = 12
    static let tagByteCount = 16

    private let key: SymmetricKey
    private let fingerprintKey: SymmetricKey
    /// The id of the master key this sealer uses: safe to show, store and log.
    public let keyID: MasterKeyID

    public init(masterKey: Data) throws(SealError) {
        guard masterKey.count == 32 else { throw .invalidMasterKey(byteCount: masterKey.count) }
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey),
            info: Data("wbkeyd seal v1".utf8),
            outputByteCount: 32)
        fingerprintKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey),
            info: Data("wbkeyd fingerprint v1".utf8),
            outputByteCount: 32)
        keyID = MasterKeyID(masterKey: masterKey)
    }

    /// A keyed fingerprint (hex HMAC-SHA256) of a secret in a context, for finding a
    /// value again (a duplicate authorization code, an `authorize-url` state) without
    /// storing it: without the master key the fingerprint says nothing about the value.
    public func fingerprint(_ secret: Sensitive, context: String) -> String {
        var message = Data(context.utf8)
        message.append(0)
        message.append(Data(secret.revealed.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: fingerprintKey)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Seals `secret` under a fresh random nonce, so sealing the same secret twice gives
    /// different bytes.
    public func seal(_ secret: Sensitive, binding: SealBinding) -> Data {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(
                Data(secret.revealed.utf8), using: key, nonce: AES.GCM.Nonce(),
                authenticating: binding.associatedData(version: Self.formatVersion))
        } catch {
            // Only a key or nonce of the wrong size makes AES-GCM sealing fail; both sizes
            // are fixed above, so reaching this is a broken crypto library, not bad input.
            preconditionFailure("AES-256-GCM sealing failed with a valid key and nonce")
        }
        var sealed = Data([Self.formatVersion])
        sealed.append(contentsOf: keyID.bytes)
        sealed.append(box.nonce.withUnsafeBytes { Data($0) })
        sealed.append(box.ciphertext)
        sealed.append(box.tag)
        return sealed
    }

    public func open(_ data: Data, binding: SealBinding) throws(SealError) -> Sensitive {
        let bytes = [UInt8](data)
        guard let version = bytes.first else { throw .truncated(binding, byteCount: 0) }
        let header: Int
        switch version {
        case Self.formatVersion: header = 1 + MasterKeyID.byteCount
        case Self.legacyFormatVersion: header = 1
        default: throw .unknownVersion(binding, version: version)
        }
        guard bytes.count >= header + Self.nonceByteCount + Self.tagByteCount else {
            throw .truncated(binding, byteCount: bytes.count)
        }
        if version == Self.formatVersion {
            let sealedBy = MasterKeyID(bytes: Array(bytes[1..<header]))
            guard sealedBy == keyID else { throw .sealedUnderOtherKey(binding, keyID: sealedBy.text, expected: keyID.text) }
        }
        let nonceEnd = header + Self.nonceByteCount
        let tagStart = bytes.count - Self.tagByteCount
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[header..<nonceEnd]),
                ciphertext: bytes[nonceEnd..<tagStart],
                tag: bytes[tagStart...])
            plaintext = try AES.GCM.open(
                box, using: key, authenticating: binding.associatedData(version: bytes[0]))
        } catch {
            throw .authenticationFailed(binding)
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .notText(binding) }
        return Sensitive(text)
    }
}

extension Sealer: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "Sealer(<redacted>, key id \(keyID.text))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A short public name for a master key: the first 8 bytes of HMAC-SHA256(key, "wbkeyd key
/// id"), as 16 hex digits. It says which key sealed a box or keys a store without revealing
/// the key (HMAC is not reversible), so errors can name the key expected and the key given.
public struct MasterKeyID: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 8
    public let bytes: [UInt8]

    public init(masterKey: Data) {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("wbkeyd key id".utf8), using: SymmetricKey(data: masterKey))
        bytes = Array(Array(mac).prefix(Self.byteCount))
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    public init?(text: String) {
        guard text.utf8.count == 2 * Self.byteCount, let parsed = hexBytes(text) else { return nil }
        bytes = parsed
    }

    public var text: String { bytes.map { String(format: "%02x", $0) }.joined() }
    public var description: String { text }
}

func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
    }
    return bytes
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case 0x30...0x39: digit - 0x30
    case 0x61...0x66: digit - 0x61 + 10
    default: nil
    }
}

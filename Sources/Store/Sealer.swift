import Crypto
import Foundation
import Sensitive

/// Seals secrets for the store with AES-256-GCM.
///
/// The cipher key is derived from the master key with HKDF-SHA256 (no salt, info
/// "wbkeyd seal v1"), so the master key itself never keys a cipher and a later format can
/// derive its own key from the same file. Sealed format, version 1:
///
///     0x01 || nonce (12 random bytes) || ciphertext || tag (16 bytes)
///
/// with `SealBinding.associatedData(version:)` as the associated data.
public struct Sealer: Sendable {
    public static let formatVersion: UInt8 = 1
    static let nonceByteCount = 12
    static let tagByteCount = 16

    private let key: SymmetricKey
    private let fingerprintKey: SymmetricKey

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
        sealed.append(box.nonce.withUnsafeBytes { Data($0) })
        sealed.append(box.ciphertext)
        sealed.append(box.tag)
        return sealed
    }

    public func open(_ data: Data, binding: SealBinding) throws(SealError) -> Sensitive {
        let bytes = [UInt8](data)
        guard bytes.count >= 1 + Self.nonceByteCount + Self.tagByteCount else {
            throw .truncated(binding, byteCount: bytes.count)
        }
        guard bytes[0] == Self.formatVersion else { throw .unknownVersion(binding, version: bytes[0]) }
        let nonceEnd = 1 + Self.nonceByteCount
        let tagStart = bytes.count - Self.tagByteCount
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[1..<nonceEnd]),
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
    public var description: String { "Sealer(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

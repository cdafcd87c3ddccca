import Crypto
import Foundation
import Sensitive
import Store
import Testing

@Suite struct SealerTests {
    let masterKey = Data((0..<32).map { UInt8($0 &* 7 &+ 3) })
    let secret = Sensitive("api-secret-7Hq2ZxK9-CLEARTEXT")
    let binding = SealBinding(kind: .apiSecret, user: "alice@example", externalID: "ext-42")

    var sealer: Sealer { get throws { try Sealer(masterKey: masterKey) } }

    @Test(arguments: SealBinding.Kind.allCases)
    func roundTripsEveryKind(kind: SealBinding.Kind) throws {
        let binding = SealBinding(kind: kind, user: "bob", externalID: kind == .apiSecret ? "ext-1" : nil)
        let sealed = try sealer.seal(secret, binding: binding)
        #expect(try sealer.open(sealed, binding: binding).revealed == secret.revealed)
    }

    @Test func roundTripsEmptyAndNonASCIIText() throws {
        for text in ["", "ключ-🔑-\u{0}-end"] {
            let sealed = try sealer.seal(Sensitive(text), binding: binding)
            #expect(try sealer.open(sealed, binding: binding).revealed == text)
        }
    }

    @Test func formatIsVersionKeyIdNonceCiphertextTag() throws {
        let sealed = try sealer.seal(secret, binding: binding)
        #expect(sealed.first == 2)
        #expect(Array(sealed.dropFirst().prefix(8)) == Array(MasterKeyID(masterKey: masterKey).bytes))
        #expect(sealed.count == 1 + 8 + 12 + secret.revealed.utf8.count + 16)
        #expect(sealed.range(of: Data(secret.revealed.utf8)) == nil)
        #expect(sealed.range(of: Data("CLEARTEXT".utf8)) == nil)
    }

    @Test func everySealHasItsOwnNonce() throws {
        let sealer = try sealer
        let seals = (0..<50).map { _ in sealer.seal(secret, binding: binding) }
        #expect(Set(seals).count == seals.count)
        #expect(Set(seals.map { $0.dropFirst(9).prefix(12) }).count == seals.count)
    }

    /// The documented derivation, done here independently: HKDF-SHA256 of the master key,
    /// no salt, info "wbkeyd seal v1". The master key itself must not open a seal.
    @Test func cipherKeyIsDerivedWithHKDF() throws {
        let sealed = try sealer.seal(secret, binding: binding)
        let associatedData = associatedDataByHand(version: 2, kind: "api_secret", user: "alice@example", externalID: "ext-42")
        let box = try AES.GCM.SealedBox(combined: sealed.dropFirst(9))
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey), info: Data("wbkeyd seal v1".utf8), outputByteCount: 32)
        let opened = try AES.GCM.open(box, using: derived, authenticating: associatedData)
        #expect(String(decoding: opened, as: UTF8.self) == secret.revealed)
        #expect(throws: (any Error).self) {
            try AES.GCM.open(box, using: SymmetricKey(data: masterKey), authenticating: associatedData)
        }
    }

    @Test func wrongMasterKeyFails() throws {
        let sealed = try sealer.seal(secret, binding: binding)
        var otherKey = masterKey
        otherKey[31] ^= 0x01
        let other = try Sealer(masterKey: otherKey)
        #expect(throws: SealError.sealedUnderOtherKey(binding, keyID: try sealer.keyID.text, expected: other.keyID.text)) {
            try other.open(sealed, binding: binding)
        }
        // A box without the key id (format 1), or one whose id was forged, still fails
        // authentication under the wrong key.
        var relabelled = sealed
        relabelled.replaceSubrange(1..<9, with: other.keyID.bytes)
        #expect(throws: SealError.authenticationFailed(binding)) { try other.open(relabelled, binding: binding) }
    }

    /// Boxes sealed before key ids (format 1: version, nonce, ciphertext, tag) still open.
    @Test func formatOneStillOpens() throws {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey), info: Data("wbkeyd seal v1".utf8), outputByteCount: 32)
        let associatedData = associatedDataByHand(version: 1, kind: "api_secret", user: "alice@example", externalID: "ext-42")
        let box = try AES.GCM.seal(Data(secret.revealed.utf8), using: derived, authenticating: associatedData)
        let sealed = Data([1]) + box.nonce.withUnsafeBytes { Data($0) } + box.ciphertext + box.tag
        #expect(try sealer.open(sealed, binding: binding).revealed == secret.revealed)
    }

    @Test(arguments: [
        SealBinding(kind: .accessToken, user: "alice@example", externalID: "ext-42"),
        SealBinding(kind: .apiSecret, user: "alice@exampl", externalID: "ext-42"),
        SealBinding(kind: .apiSecret, user: "alice@example", externalID: "ext-43"),
        SealBinding(kind: .apiSecret, user: "alice@example", externalID: nil),
        SealBinding(kind: .apiSecret, user: "alice@example", externalID: ""),
    ])
    func wrongBindingFails(other: SealBinding) throws {
        let sealed = try sealer.seal(secret, binding: binding)
        #expect(throws: SealError.authenticationFailed(other)) { try sealer.open(sealed, binding: other) }
    }

    /// Without length prefixes, the second pair would encode to the same bytes
    /// ("a" 01 "b" 00 both times).
    @Test(arguments: [
        (SealBinding(kind: .accessToken, user: "a", externalID: "bc"), SealBinding(kind: .accessToken, user: "ab", externalID: "c")),
        (SealBinding(kind: .accessToken, user: "a\u{1}b", externalID: nil), SealBinding(kind: .accessToken, user: "a", externalID: "b\u{0}")),
    ])
    func fieldBoundariesCannotBeShifted(sealedFor: SealBinding, openedAs: SealBinding) throws {
        let sealer = try sealer
        let sealed = sealer.seal(secret, binding: sealedFor)
        #expect(throws: SealError.authenticationFailed(openedAs)) { try sealer.open(sealed, binding: openedAs) }
    }

    @Test func everyAlteredByteIsDetected() throws {
        let sealer = try sealer
        let sealed = sealer.seal(secret, binding: binding)
        for index in sealed.indices {
            var altered = sealed
            altered[index] ^= 0x20
            let expected: SealError =
                switch index - sealed.startIndex {
                case 0: .unknownVersion(binding, version: 2 ^ 0x20)
                case 1..<9:
                    .sealedUnderOtherKey(
                        binding, keyID: MasterKeyID(text: altered[1..<9].map { String(format: "%02x", $0) }.joined())!.text,
                        expected: sealer.keyID.text)
                default: .authenticationFailed(binding)
                }
            #expect(throws: expected) { try sealer.open(altered, binding: binding) }
        }
    }

    @Test func truncatedDataFails() throws {
        let sealer = try sealer
        let sealed = sealer.seal(secret, binding: binding)
        for length in 0..<sealed.count {
            let truncated = sealed.prefix(length)
            let error = #expect(throws: SealError.self) { try sealer.open(Data(truncated), binding: binding) }
            if length < 1 + 8 + 12 + 16 {
                #expect(error == .truncated(binding, byteCount: length))
            } else {
                #expect(error == .authenticationFailed(binding))
            }
        }
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func masterKeyMustBe32Bytes(length: Int) {
        #expect(throws: SealError.invalidMasterKey(byteCount: length)) {
            try Sealer(masterKey: Data(repeating: 1, count: length))
        }
    }

    @Test func errorsNameKindAndUserButNoContent() throws {
        let sealer = try sealer
        let sealed = sealer.seal(secret, binding: binding)
        var altered = sealed
        altered[20] ^= 1
        let failures: [Data] = [altered, Data(sealed.prefix(10)), Data([9]) + sealed.dropFirst()]
        for data in failures {
            let error = #expect(throws: SealError.self) { try sealer.open(data, binding: binding) }
            guard let error else { continue }
            var dumped = ""
            dump(error, to: &dumped)
            for rendering in ["\(error)", String(reflecting: error), error.localizedDescription, dumped] {
                #expect(!rendering.contains("CLEARTEXT"))
                #expect(!rendering.contains("7Hq2ZxK9"))
            }
            #expect("\(error)".contains("api_secret"))
            #expect("\(error)".contains("alice@example"))
        }
    }

    @Test func sealerDoesNotPrintItsKey() throws {
        let sealer = try sealer
        var dumped = ""
        dump(sealer, to: &dumped)
        let keyHex = masterKey.map { String(format: "%02x", $0) }.joined()
        for rendering in ["\(sealer)", String(reflecting: sealer), dumped] {
            #expect(rendering.contains("redacted"))
            #expect(!rendering.contains(keyHex))
        }
    }

    private func associatedDataByHand(version: UInt8, kind: String, user: String, externalID: String?) -> Data {
        func prefixed(_ text: String) -> [UInt8] {
            let bytes = Array(text.utf8)
            return [0, 0, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
        }
        var data = [version] + prefixed(kind) + prefixed(user)
        data += externalID.map { [1] + prefixed($0) } ?? [0]
        return Data(data)
    }
}

import Foundation

/// What a sealed secret is and whose: the GCM associated data. A sealed access token of one
/// user cannot be passed off as another user's, or as an API secret, because opening it
/// under any other binding fails authentication.
public struct SealBinding: Sendable, Hashable {
    /// The stored raw values are part of the associated data: never rename one.
    public enum Kind: String, Sendable, CaseIterable {
        case accessToken = "access_token"
        case authorizationCode = "authorization_code"
        case codeVerifier = "code_verifier"
        case apiSecret = "api_secret"
        case pendingStateVerifier = "pending_state_verifier"
        /// The store's audit chain key (`StoreKeyring`), bound to user "wbkeyd".
        case auditChainKey = "audit_chain_key"
    }

    public let kind: Kind
    public let user: String
    public let externalID: String?

    public init(kind: Kind, user: String, externalID: String? = nil) {
        self.kind = kind
        self.user = user
        self.externalID = externalID
    }

    /// The associated data for format `version`:
    ///
    ///     version (1 byte)
    ///     u32be(byte length of kind)        || kind, UTF-8
    ///     u32be(byte length of user)        || user, UTF-8
    ///     0x00                              when externalId is nil, else
    ///     0x01 || u32be(byte length of externalId) || externalId, UTF-8
    ///
    /// Every field carries its length, so no two different bindings encode to the same
    /// bytes (user "a" with externalId "bc" differs from user "ab" with externalId "c").
    func associatedData(version: UInt8) -> Data {
        var data = Data([version])
        Self.appendLengthPrefixed(kind.rawValue, to: &data)
        Self.appendLengthPrefixed(user, to: &data)
        if let externalID {
            data.append(0x01)
            Self.appendLengthPrefixed(externalID, to: &data)
        } else {
            data.append(0x00)
        }
        return data
    }

    private static func appendLengthPrefixed(_ text: String, to data: inout Data) {
        let bytes = Array(text.utf8)
        let length = UInt32(bytes.count)
        data.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) })
        data.append(contentsOf: bytes)
    }
}

extension SealBinding: CustomStringConvertible {
    public var description: String {
        "\(kind.rawValue) of user \(user)" + (externalID.map { " (external id \($0))" } ?? "")
    }
}

/// Why a sealed secret could not be opened, or a sealer made. Names the binding (what and
/// whose), never the content or the key.
public enum SealError: Error, Equatable, Sendable {
    /// The master key is not 32 bytes long.
    case invalidMasterKey(byteCount: Int)
    /// Too short to hold a version byte, a nonce and a tag.
    case truncated(SealBinding, byteCount: Int)
    /// Sealed by a format this build does not know.
    case unknownVersion(SealBinding, version: UInt8)
    /// Wrong master key, wrong binding, or bytes altered since sealing: GCM cannot tell
    /// which, by design.
    case authenticationFailed(SealBinding)
    /// A version-2 box names another master key than the one in use (ids only, never keys).
    case sealedUnderOtherKey(SealBinding, keyID: String, expected: String)
    /// Authenticated, but the content is not UTF-8 text (it was not sealed by `Sealer`).
    case notText(SealBinding)
}

extension SealError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidMasterKey(byteCount):
            return "master key must be 32 bytes, got \(byteCount)"
        case let .truncated(binding, byteCount):
            return "sealed \(binding) is truncated (\(byteCount) bytes)"
        case let .unknownVersion(binding, version):
            return "sealed \(binding) has unknown format version \(version)"
        case let .authenticationFailed(binding):
            return "sealed \(binding) failed authentication: wrong master key, wrong binding, or altered data"
        case let .sealedUnderOtherKey(binding, keyID, expected):
            return "sealed \(binding) was sealed under master key id \(keyID), not under the key in use (id \(expected))"
        case let .notText(binding):
            return "sealed \(binding) does not hold UTF-8 text"
        }
    }
}

import DaemonConfig
import Foundation
import Sensitive
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CredentialFileTests {
    static let canary = "CANARY-c7f3e1-client-secret"
    /// 32 bytes that are not all printable, as `head -c 32 /dev/urandom` would give.
    static let rawKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 0x81) }
    static var hexKey: String { rawKey.map { String(format: "%02x", $0) }.joined() }
    static var base64Key: String { Data(rawKey).base64EncodedString() }

    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func location(_ path: String, key: String = "whitebit.client_secret_file") -> CredentialLocation {
        CredentialLocation(key: key, path: path, source: .configured)
    }

    func masterKeyLocation(_ path: String) -> CredentialLocation {
        location(path, key: "store.master_key_file")
    }

    // MARK: - Client secret

    @Test(arguments: [0o600 as mode_t, 0o400, 0o700, 0o610])
    func aPrivateFileIsAccepted(mode: mode_t) throws {
        let path = try directory.write("client-secret", text: Self.canary + "\n", mode: mode)
        let secret = try CredentialFile.readClientSecret(at: location(path))
        #expect(secret.revealed == Self.canary)
    }

    @Test func onlyOneTrailingNewlineIsDropped() throws {
        let crlf = try directory.write("crlf", text: "s3cret\r\n", mode: 0o600)
        #expect(try CredentialFile.readClientSecret(at: location(crlf)).revealed == "s3cret")
        let bare = try directory.write("bare", text: "s3cret", mode: 0o600)
        #expect(try CredentialFile.readClientSecret(at: location(bare)).revealed == "s3cret")
        let twoLines = try directory.write("two", text: "s3cret\n\n", mode: 0o600)
        #expect(throws: CredentialError(key: "whitebit.client_secret_file", path: twoLines, reason: .notSingleLineText)) {
            try CredentialFile.readClientSecret(at: location(twoLines))
        }
    }

    @Test(arguments: [0o640 as mode_t, 0o604, 0o660, 0o620, 0o602, 0o644, 0o666])
    func aFileOthersCanReadOrWriteIsRefused(mode: mode_t) throws {
        let path = try directory.write("client-secret", text: Self.canary, mode: mode)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: location(path)) }
        #expect(error?.reason == .accessibleByOthers(permissions: UInt16(mode)))
        #expect(error?.description.contains("whitebit.client_secret_file") == true)
        #expect(error?.description.contains("readable or writable by group or others") == true)
        #expect(error.map { "\($0)" }?.contains(Self.canary) == false)
    }

    @Test func aSymlinkIsRefusedEvenToAPrivateFile() throws {
        let target = try directory.write("real", text: Self.canary, mode: 0o600)
        let link = directory.path + "/client-secret"
        #expect(symlink(target, link) == 0)
        #expect(throws: CredentialError(key: "whitebit.client_secret_file", path: link, reason: .file(.symbolicLink))) {
            try CredentialFile.readClientSecret(at: location(link))
        }
    }

    @Test func aDirectoryIsRefused() throws {
        let path = directory.path + "/client-secret"
        #expect(mkdir(path, 0o700) == 0)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: location(path)) }
        #expect(error?.reason == .file(.notRegularFile(kind: "a directory")))
        #expect(error?.description == "whitebit.client_secret_file: \(path) is a directory, not a regular file")
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let path = directory.path + "/client-secret"
        #expect(mkfifo(path, 0o600) == 0)
        #expect(throws: CredentialError(key: "whitebit.client_secret_file", path: path, reason: .file(.notRegularFile(kind: "a FIFO")))) {
            try CredentialFile.readClientSecret(at: location(path))
        }
    }

    @Test func aMissingFileIsRefused() {
        let path = directory.path + "/absent"
        #expect(throws: CredentialError(key: "whitebit.client_secret_file", path: path, reason: .file(.missing))) {
            try CredentialFile.readClientSecret(at: location(path))
        }
    }

    @Test(arguments: ["", "\n", "\r\n"])
    func anEmptySecretIsRefused(text: String) throws {
        let path = try directory.write("client-secret", text: text, mode: 0o600)
        #expect(throws: CredentialError(key: "whitebit.client_secret_file", path: path, reason: .empty)) {
            try CredentialFile.readClientSecret(at: location(path))
        }
    }

    @Test func aHugeFileIsRefused() throws {
        let path = try directory.write("client-secret", text: String(repeating: "x", count: 20_000), mode: 0o600)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: location(path)) }
        if case .file(.tooLarge) = error?.reason {} else { Issue.record("expected tooLarge, got \(String(describing: error))") }
    }

    // MARK: - Master key

    @Test func rawHexAndBase64AllGiveTheSameKey() throws {
        let encodings: [[UInt8]] = [
            Self.rawKey,
            Array(Self.hexKey.utf8),
            Array((Self.hexKey + "\n").utf8),
            Array(("  " + Self.hexKey.uppercased() + "\r\n").utf8),
            Array(Self.base64Key.utf8),
            Array(("\n" + Self.base64Key + "\n").utf8),
        ]
        for (index, bytes) in encodings.enumerated() {
            let path = try directory.write("master-key-\(index)", bytes: bytes, mode: 0o400)
            let key = try CredentialFile.readMasterKey(at: masterKeyLocation(path))
            #expect(key.bytes == Self.rawKey, "encoding \(index)")
        }
    }

    @Test(arguments: [
        [UInt8](repeating: 0x81, count: 31),
        [UInt8](repeating: 0x81, count: 33),
        Array(String(repeating: "ab", count: 31).utf8),
        Array(String(repeating: "ab", count: 33).utf8),
        Array(Data([UInt8](repeating: 0x81, count: 16)).base64EncodedString().utf8),
        Array(Data([UInt8](repeating: 0x81, count: 33)).base64EncodedString().utf8),
        Array("not a key at all, just some words that are long enough".utf8),
    ])
    func wrongLengthsAreRefusedWithoutShowingTheContent(bytes: [UInt8]) throws {
        let path = try directory.write("master-key", bytes: bytes, mode: 0o600)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readMasterKey(at: masterKeyLocation(path)) }
        #expect(error?.reason == .masterKeyFormat(byteCount: bytes.count))
        #expect(error?.description.hasPrefix("store.master_key_file: \(path) must hold 32 raw bytes") == true)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(error.map { "\($0)" }?.contains(text) == false)
    }

    @Test func thirtyTwoPrintableCharactersAreTakenForAShortTextKey() throws {
        let shortHex = String(repeating: "0f", count: 16)
        let path = try directory.write("master-key", text: shortHex, mode: 0o600)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readMasterKey(at: masterKeyLocation(path)) }
        #expect(error?.reason == .masterKeyLooksLikeText)
        #expect(error.map { "\($0)" }?.contains(shortHex) == false)
    }

    @Test func anEmptyMasterKeyIsRefused() throws {
        let path = try directory.write("master-key", bytes: [], mode: 0o600)
        #expect(throws: CredentialError(key: "store.master_key_file", path: path, reason: .empty)) {
            try CredentialFile.readMasterKey(at: masterKeyLocation(path))
        }
    }

    @Test(arguments: [0o640 as mode_t, 0o604, 0o660])
    func aMasterKeyOthersCanReadIsRefused(mode: mode_t) throws {
        let path = try directory.write("master-key", text: Self.hexKey, mode: mode)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readMasterKey(at: masterKeyLocation(path)) }
        #expect(error?.reason == .accessibleByOthers(permissions: UInt16(mode)))
        #expect(error.map { "\($0)" }?.contains(Self.hexKey) == false)
    }

    @Test func aSymlinkedMasterKeyIsRefused() throws {
        let target = try directory.write("real-key", bytes: Self.rawKey, mode: 0o600)
        let link = directory.path + "/master-key"
        #expect(symlink(target, link) == 0)
        #expect(throws: CredentialError(key: "store.master_key_file", path: link, reason: .file(.symbolicLink))) {
            try CredentialFile.readMasterKey(at: masterKeyLocation(link))
        }
    }

    @Test func theMasterKeyNeverPrintsItself() throws {
        let path = try directory.write("master-key", bytes: Self.rawKey, mode: 0o600)
        let key = try CredentialFile.readMasterKey(at: masterKeyLocation(path))
        var dumped = ""
        dump(key, to: &dumped)
        for rendering in ["\(key)", String(reflecting: key), dumped] {
            #expect(!rendering.contains(Self.hexKey.prefix(8)))
            #expect(!rendering.contains("129"), "a byte of the key leaked: \(rendering.count) characters")
        }
    }
}

import DaemonConfig
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// systemd 254 and later write credentials into a tmpfs `$CREDENTIALS_DIRECTORY` as
/// `0400 root` plus an ACL entry for the service user, so `stat` shows the ACL mask as
/// group read (`0440`). Those files must load; group bits that mean what they say must
/// still be refused. Real files, real ACLs (`setfacl`, Debian package acl).
@Suite struct CredentialACLTests {
    static let canary = "CANARY-acl-client-secret"
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A credential as systemd writes it: mode 0400, then `setfacl -m ENTRIES`.
    func credential(_ entries: String) throws -> String {
        let path = try directory.write("client-secret", text: Self.canary + "\n", mode: 0o400)
        let setfacl = Process()
        setfacl.executableURL = URL(fileURLWithPath: "/usr/bin/setfacl")
        setfacl.arguments = ["-m", entries, path]
        try setfacl.run()
        setfacl.waitUntilExit()
        try #require(setfacl.terminationStatus == 0, "setfacl -m \(entries) failed (scripts/install-deps installs acl)")
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o440, "the ACL mask shows as group read, as systemd's does")
        return path
    }

    func fromCredentialsDirectory(_ path: String) -> CredentialLocation {
        CredentialLocation(key: "whitebit.client_secret_file", path: path, source: .credentialsDirectory)
    }

    @Test func systemdsCredentialACLForThisUIDIsAccepted() throws {
        let path = try credential("u:\(geteuid()):r")
        #expect(try CredentialFile.readClientSecret(at: fromCredentialsDirectory(path)).revealed == Self.canary)
    }

    @Test func theSameFileNamedInTheConfigIsRefused() throws {
        let path = try credential("u:\(geteuid()):r")
        let configured = CredentialLocation(key: "whitebit.client_secret_file", path: path, source: .configured)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: configured) }
        #expect(error?.reason == .accessibleByOthers(permissions: 0o440))
    }

    @Test(arguments: [
        ("u:65534:r", "its ACL lets uid 65534 read it"),
        ("g:65534:r", "its ACL lets gid 65534 read it"),
        ("u:\(geteuid()):r,g::r", "its ACL lets the file's group read it"),
    ])
    func anACLThatLetsAnyoneElseReadIsRefused(entries: String, reason: String) throws {
        let path = try credential(entries)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: fromCredentialsDirectory(path)) }
        #expect(error?.reason == .aclGrantsOthers(permissions: 0o440, reason: reason))
        #expect(error.map { "\($0)" }?.contains(Self.canary) == false)
    }

    @Test func groupReadWithoutAnACLIsRefusedEvenInTheCredentialsDirectory() throws {
        let path = try directory.write("client-secret", text: Self.canary, mode: 0o440)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: fromCredentialsDirectory(path)) }
        #expect(error?.reason == .accessibleByOthers(permissions: 0o440))
    }

    @Test func aWritableMaskIsRefused() throws {
        let path = try directory.write("client-secret", text: Self.canary, mode: 0o400)
        let setfacl = Process()
        setfacl.executableURL = URL(fileURLWithPath: "/usr/bin/setfacl")
        setfacl.arguments = ["-m", "u:\(geteuid()):rw", path]
        try setfacl.run()
        setfacl.waitUntilExit()
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readClientSecret(at: fromCredentialsDirectory(path)) }
        #expect(error?.reason == .accessibleByOthers(permissions: 0o460))
    }
}

import Foundation
import Sensitive
import Spool
import WhiteBITSimHarness

/// A consent played at the simulator and delivered to the spool, with everything the
/// partner's callback held (tests search outputs for the code and verifier).
public struct SubmittedAuthorization: Sendable {
    public let user: String
    public let authorization: SimAuthorization
    /// The file's name in `new/` (and in `rejected/` or the audit `detail.file`).
    public let file: String
}

/// Delivering spool files the way partners must (docs/design.md §4): written under `tmp/`,
/// renamed into `new/`.
extension DaemonFixture {
    /// An authorization through `SpoolSubmission` and `SpoolWriter`; answers the file name.
    @discardableResult
    public func submitAuthorization(
        user: String, code: Sensitive, verifier: Sensitive?, state: Sensitive? = nil, receivedAt: Date? = nil,
        apiKey: String? = nil
    ) throws -> String {
        let json = try SpoolSubmission.authorization(
            user: user, code: code, codeVerifier: verifier, state: state, receivedAt: receivedAt, apiKey: apiKey)
        return try SpoolWriter.submit(root: paths.spoolRoot, json: json).description
    }

    /// A revocation through `SpoolSubmission` and `SpoolWriter`; answers the file name.
    @discardableResult
    public func submitRevocation(user: String, reason: String? = nil) throws -> String {
        try SpoolWriter.submit(root: paths.spoolRoot, json: SpoolSubmission.revocation(user: user, reason: reason)).description
    }

    /// The user consents at the simulator (fresh PKCE pair and state, key appearing as
    /// `key` says, default: the simulator's `--key-delay`) and the partner drops the
    /// callback's code and verifier into the spool.
    @discardableResult
    public func consentAndSubmit(user: String, key: SimKeyAppearance? = nil) async throws -> SubmittedAuthorization {
        let authorization = try await admin.authorize(user: user, key: key)
        let file = try submitAuthorization(user: user, code: authorization.code, verifier: authorization.verifier)
        return SubmittedAuthorization(user: user, authorization: authorization, file: file)
    }

    /// Any bytes as a delivery named `name`: written under `tmp/` with mtime `modified`
    /// (default now), then renamed into `new/`. For malformed files that `SpoolWriter`
    /// would refuse to write.
    public func deliver(_ bytes: [UInt8], as name: String, modified: Date? = nil) throws {
        let staging = paths.spoolTmp + "/" + name
        try writeFile(staging, bytes, mode: 0o640)
        if let modified { try setModificationTime(staging, modified) }
        guard rename(staging, paths.spoolNew + "/" + name) == 0 else {
            throw HarnessError.setupFailed(what: "rename into new/", path: staging, errno: errno)
        }
    }

    /// Puts a file straight into `claimed/`, as a run that claimed it and crashed before
    /// finishing left it. For start-up recovery tests; the daemon should be stopped.
    public func placeClaimed(_ bytes: [UInt8], as name: String) throws {
        try writeFile(paths.spoolClaimed + "/" + name, bytes, mode: 0o640)
    }

    /// The files in `rejected/` (not their `.reason` files, nor dotfiles: temporaries).
    public var rejectedFiles: [String] {
        paths.names(in: paths.spoolRejected).filter { !$0.hasSuffix(".reason") && !$0.hasPrefix(".") }
    }

    /// The one-line reason wbkeyd wrote beside a rejected file, without its newline.
    public func rejectionReason(of name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: paths.spoolRejected + "/" + name + ".reason") else { return nil }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    func setModificationTime(_ path: String, _ date: Date) throws {
        let seconds = date.timeIntervalSince1970
        var times = [
            timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9)),
            timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9)),
        ]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw HarnessError.setupFailed(what: "utimensat", path: path, errno: errno)
        }
    }
}

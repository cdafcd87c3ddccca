import Foundation
import Sensitive
import Spool
import Testing

/// `wbkeyctl submit` writes files that the daemon's own parser accepts, refuses what
/// it would reject (naming the option, echoing no secret), and leaves no partial file.
@Suite struct SubmitTests {
    static let code = "CODE-7f3a9c2e-\(UInt64.random(in: 1 ... .max))"
    static let verifier = "verifier-" + String(repeating: "V", count: 40) + String(UInt64.random(in: 1 ... .max))
    static let state = "state-\(UInt64.random(in: 1 ... .max))"

    struct Spool {
        let scratch: ScratchDirectory
        var root: String { scratch.path }

        init() throws {
            scratch = try ScratchDirectory()
            for directory in ["tmp", "new"] {
                try FileManager.default.createDirectory(atPath: scratch.path + "/" + directory, withIntermediateDirectories: false)
            }
        }

        func names(_ directory: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: root + "/" + directory).sorted()
        }

        /// The one delivered file, through the daemon's parser.
        func delivered() throws -> (name: String, item: SpoolItem) {
            let names = try names("new")
            try #require(names.count == 1, "expected one file in new/, found \(names)")
            #expect(try self.names("tmp").isEmpty)
            let path = root + "/new/" + names[0]
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date ?? Date()
            let item = try SpoolParser.parse(bytes: bytes, fileModified: modified, now: Date(), maxCodeAge: .seconds(600)).get()
            return (names[0], item)
        }
    }

    @Test func anAuthorizationFromTheCommandLineParsesBack() async throws {
        let spool = try Spool()
        let run = try await ProgramRun.wbkeyctl(["submit", "--spool", spool.root, "--insecure-argv", "--user", "u-1001", "--code", Self.code, "--verifier", Self.verifier])
        #expect(run.status == 0, "\(run.standardError)")
        let (name, item) = try spool.delivered()
        #expect(run.standardOutput == "authorization for u-1001 delivered: \(spool.root)/new/\(name)\n")
        guard case .authorization(let request) = item else { Issue.record("not an authorization"); return }
        #expect(request.user == "u-1001")
        #expect(request.code.constantTimeEquals(Sensitive(Self.code)))
        #expect(request.codeVerifier?.constantTimeEquals(Sensitive(Self.verifier)) == true)
        #expect(request.state == nil && request.apiKey == nil)
        #expect(abs(request.receivedAt.timeIntervalSinceNow) < 600)
        expectNoSecret(in: run)
    }

    @Test func theCodeFromStandardInputAndTheVerifierFromAFile() async throws {
        let spool = try Spool()
        let verifierFile = spool.root + "/verifier"
        try Data((Self.verifier + "\r\n").utf8).write(to: URL(fileURLWithPath: verifierFile))
        let run = try await ProgramRun.wbkeyctl(
            ["submit", "--spool", spool.root, "--user", "u-1002", "--code-file", "-", "--verifier-file", verifierFile, "--json"],
            input: Array((Self.code + "\n").utf8))
        #expect(run.status == 0, "\(run.standardError)")
        let (name, item) = try spool.delivered()
        let document = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: String]
        #expect(document == ["file": "\(spool.root)/new/\(name)", "type": "authorization", "user": "u-1002"])
        guard case .authorization(let request) = item else { Issue.record("not an authorization"); return }
        #expect(request.code.constantTimeEquals(Sensitive(Self.code)))
        #expect(request.codeVerifier?.constantTimeEquals(Sensitive(Self.verifier)) == true)
        expectNoSecret(in: run)
    }

    @Test func aStateReceivedAtAndAPIKey() async throws {
        let spool = try Spool()
        let codeFile = spool.root + "/code"
        try Data(Self.code.utf8).write(to: URL(fileURLWithPath: codeFile))
        let run = try await ProgramRun.wbkeyctl([
            "submit", "--spool", spool.root, "--insecure-argv", "--user", "u-1003", "--code-file", codeFile, "--state", Self.state,
            "--received-at", "2026-11-26T10:00:00+01:00", "--api-key", "pk-public-1",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: spool.root + "/new/" + spool.names("new")[0]))
        let decoded = try SpoolParser.parse(
            bytes: [UInt8](bytes), fileModified: Date(), now: Date(timeIntervalSince1970: 1_795_684_000), maxCodeAge: .seconds(600)
        ).get()
        guard case .authorization(let request) = decoded else { Issue.record("not an authorization"); return }
        #expect(request.state?.constantTimeEquals(Sensitive(Self.state)) == true)
        #expect(request.codeVerifier == nil)
        #expect(request.receivedAt == Date(timeIntervalSince1970: 1_795_683_600))
        #expect(request.apiKey == "pk-public-1")
        expectNoSecret(in: run)
    }

    @Test func theCodeAndTheStateBothFromStandardInputOnePerLine() async throws {
        let spool = try Spool()
        let run = try await ProgramRun.wbkeyctl(
            ["submit", "--spool", spool.root, "--user", "u-1006", "--code-file", "-", "--state-file", "-"],
            input: Array("\(Self.code)\n\(Self.state)\r\n".utf8))
        #expect(run.status == 0, "\(run.standardError)")
        guard case .authorization(let request) = try spool.delivered().item else { Issue.record("not an authorization"); return }
        #expect(request.code.constantTimeEquals(Sensitive(Self.code)))
        #expect(request.state?.constantTimeEquals(Sensitive(Self.state)) == true && request.codeVerifier == nil)
        expectNoSecret(in: run)
    }

    @Test func theStateFromAFile() async throws {
        let spool = try Spool()
        let stateFile = spool.root + "/state"
        try Data((Self.state + "\n").utf8).write(to: URL(fileURLWithPath: stateFile))
        let run = try await ProgramRun.wbkeyctl(
            ["submit", "--spool", spool.root, "--user", "u-1007", "--code-file", "-", "--state-file", stateFile],
            input: Array(Self.code.utf8))
        #expect(run.status == 0, "\(run.standardError)")
        guard case .authorization(let request) = try spool.delivered().item else { Issue.record("not an authorization"); return }
        #expect(request.state?.constantTimeEquals(Sensitive(Self.state)) == true)
        expectNoSecret(in: run)
    }

    /// base64url values may begin with `-`; they must not be taken for options.
    @Test func valuesThatBeginWithADash() async throws {
        let spool = try Spool()
        let state = "-" + Self.state, verifier = "-" + Self.verifier, code = "-" + Self.code
        let run = try await ProgramRun.wbkeyctl(["submit", "--spool", spool.root, "--insecure-argv", "--user", "u-1005", "--code", code, "--state", state])
        #expect(run.status == 0, "\(run.standardError)")
        guard case .authorization(let request) = try spool.delivered().item else { Issue.record("not an authorization"); return }
        #expect(request.code.constantTimeEquals(Sensitive(code)) && request.state?.constantTimeEquals(Sensitive(state)) == true)
        let other = try Spool()
        let withVerifier = try await ProgramRun.wbkeyctl(["submit", "--spool", other.root, "--insecure-argv", "--user", "u-1005", "--code", code, "--verifier", verifier])
        #expect(withVerifier.status == 0, "\(withVerifier.standardError)")
        guard case .authorization(let second) = try other.delivered().item else { Issue.record("not an authorization"); return }
        #expect(second.codeVerifier?.constantTimeEquals(Sensitive(verifier)) == true)
    }

    @Test func aRevocation() async throws {
        let spool = try Spool()
        let run = try await ProgramRun.wbkeyctl(["submit", "--spool", spool.root, "--revoke", "--user", "u-1004", "--reason", "user disconnected"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.hasPrefix("revocation for u-1004 delivered: \(spool.root)/new/"))
        #expect(try spool.delivered().item == .revocation(RevocationRequest(user: "u-1004", reason: "user disconnected")))
    }

    static let refusals: [([String], String)] = [
        (["--insecure-argv", "--user", "u-1", "--code", code, "--verifier", "short-\(verifier.prefix(5))"], "--verifier: code_verifier is 11 characters long, at least 43 required"),
        (["--insecure-argv", "--user", "u 1", "--code", code, "--verifier", verifier], "--user: user has a character outside"),
        (["--insecure-argv", "--user", "u-1", "--code", code + "\u{7}", "--verifier", verifier], "--code: code has a character outside"),
        (["--insecure-argv", "--user", "u-1", "--code", code, "--state", state + "\u{1}"], "--state: state has a character outside"),
        (["--insecure-argv", "--user", "u-1", "--code", code], "give exactly one of --verifier-file, --state-file, --verifier or --state"),
        (["--insecure-argv", "--user", "u-1", "--verifier", verifier], "give the code exactly once"),
        (["--insecure-argv", "--user", "u-1", "--code", code, "--code-file", "/x", "--verifier", verifier], "give the code exactly once"),
        (["--user", "u-1", "--code-file", "-", "--verifier-file", "-"], "standard input must hold two lines, the code and then the other value; it holds 1"),
        // Without --insecure-argv, no secret is taken from the command line.
        (["--user", "u-1", "--code", code, "--verifier-file", "/x"], "--code puts its value on the command line, where every local user can read it (ps, /proc/PID/cmdline): use --code-file (`-` for standard input), or add --insecure-argv"),
        (["--user", "u-1", "--code-file", "/x", "--verifier", verifier], "--verifier puts its value on the command line"),
        (["--user", "u-1", "--code-file", "/x", "--state", state], "--state puts its value on the command line"),
        (["--insecure-argv", "--user", "u-1", "--code", code, "--verifier", verifier, "--reason", "x"], "--reason belongs to a revocation"),
        (["--revoke", "--user", "u-1", "--code", code], "--code belong to an authorization"),
        (["--insecure-argv", "--user", "u-1", "--code", code, "--verifier", verifier, "--received-at", "yesterday"], "--received-at: not an RFC 3339"),
        (["--insecure-argv", "--user", "u-1", "--code-file", "/nonexistent/code", "--verifier", verifier], "--code-file /nonexistent/code: No such file or directory"),
        (["--insecure-argv", "--user", "u-1", "--code", code, "--verifier", verifier, "--api-key", "pk\u{1}"], "--api-key: api_key has a character outside"),
        (["--revoke", "--user", "u-1", "--reason", String(repeating: "r", count: 600)], "--reason: reason is 600 characters long, at most 512 allowed"),
        (["--code-file", "/x", "--verifier-file", "/y"], "--user"),
    ]

    @Test(arguments: refusals)
    func refusesNamingTheOptionAndWritesNothing(arguments: [String], named: String) async throws {
        let spool = try Spool()
        let run = try await ProgramRun.wbkeyctl(["submit", "--spool", spool.root] + arguments)
        #expect(run.status == 64)
        #expect(run.standardError.contains(named), "\(run.standardError)")
        #expect(try spool.names("new").isEmpty)
        #expect(try spool.names("tmp").isEmpty)
        expectNoSecret(in: run)
    }

    @Test func aSpoolWithoutItsDirectoriesFailsNamingThePath() async throws {
        let scratch = try ScratchDirectory()
        let run = try await ProgramRun.wbkeyctl(["submit", "--spool", scratch.path, "--revoke", "--user", "u-1"])
        #expect(run.status == 1)
        #expect(run.standardError.contains("cannot deliver into the spool at \(scratch.path)"))
        #expect(run.standardError.contains("No such file or directory"))
    }

    private func expectNoSecret(in run: ProgramRun, sourceLocation: SourceLocation = #_sourceLocation) {
        for (name, value) in [("code", Self.code), ("verifier", Self.verifier), ("state", Self.state)] {
            #expect(!run.everything.contains(value), "wbkeyctl printed the \(name)", sourceLocation: sourceLocation)
        }
    }
}

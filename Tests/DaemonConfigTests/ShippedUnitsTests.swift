import DaemonConfig
import Foundation
import Testing

/// The example config and the files under systemd/ describe one deployment: every path,
/// group and credential name the config relies on must be one the units provide. A unit
/// edited without the config (or the other way round) fails here, before the systemd test.
@Suite struct ShippedUnitsTests {
    func example() throws -> LoadedConfiguration {
        let accounts = FakeAccountDirectory(groups: [GroupAccount(name: "wbkeyd-admin", gid: 990)])
        let loader = ConfigurationLoader(accounts: accounts, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/wbkeyd.service"])
        return try loader.load(path: exampleConfigPath)
    }

    @Test func theControlSocketIsTheOneTheSocketUnitListensOn() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let socket = try UnitFile.shipped("wbkeyd.socket")
        let control = try example().configuration.control
        #expect(socket.values("ListenStream") == [control.socket])
        // Not the admin group: agents and secret readers who are no admins must reach it.
        #expect(socket.values("SocketGroup") == ["wbkeyd-clients"])
        #expect(socket.values("SocketMode") == [control.mode.description])
        #expect(socket.values("FileDescriptorName") == ["control"])
        #expect(socket.values("Service") == ["wbkeyd.service"])
        #expect(service.values("Requires").contains("wbkeyd.socket"))
        let runtime = try #require(service.values("RuntimeDirectory").first)
        #expect(control.socket.hasPrefix("/run/\(runtime)/"))
        #expect(service.values("RuntimeDirectoryPreserve") == ["yes"], "a stopped service must not take the socket's directory")
    }

    @Test func noCoreDumpNoSwapAndBoundedResources() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        #expect(service.values("LimitCORE") == ["0"], "a core dump holds every secret in clear")
        #expect(service.values("MemorySwapMax") == ["0"], "swapped pages hold secrets in clear")
        let descriptors = try #require(service.values("LimitNOFILE").first.flatMap { Int($0) })
        // 64 control connections, 256 WhiteBIT connections, the store, the spool: at least 400.
        #expect((400...65_536).contains(descriptors), "LimitNOFILE=\(descriptors)")
        #expect(service.values("TasksMax").first.flatMap { Int($0) } != nil, "TasksMax= must be a number")
        #expect(service.values("MemoryMax").first?.hasSuffix("G") == true || service.values("MemoryMax").first?.hasSuffix("M") == true)
    }

    @Test func theStoreLivesInTheStateDirectory() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let store = try example().configuration.store
        let state = try #require(service.values("StateDirectory").first)
        #expect(store.path.hasPrefix("/var/lib/\(state)/"))
    }

    @Test func theSpoolIsWritableAndMadeByTmpfiles() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let spool = try example().configuration.spool.directory
        #expect(service.values("ReadWritePaths").map { $0.trimmingCharacters(in: ["-"]) } == [spool])
        let tmpfiles = try String(contentsOfFile: repositoryPath("systemd/wbkeyd.tmpfiles"), encoding: .utf8)
        let made = tmpfiles.split(separator: "\n").filter { $0.hasPrefix("d ") }.map { $0.split(separator: " ")[1] }
        #expect(made == [spool, spool + "/tmp", spool + "/new", spool + "/claimed", spool + "/rejected"].map { Substring($0) })
    }

    @Test func theCredentialsComeFromLoadCredential() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let credentials = try example().credentials
        let loaded = service.values("LoadCredential").map { $0.split(separator: ":", maxSplits: 1).map(String.init) }
        let names = Set(loaded.map { $0[0] })
        for location in [credentials.clientSecret, credentials.masterKey] {
            #expect(location.source == .credentialsDirectory)
            #expect(names.contains(URL(fileURLWithPath: location.path).lastPathComponent), "no LoadCredential= for \(location.key)")
        }
        #expect(loaded.allSatisfy { $0.count == 2 && $0[1] == "/etc/wbkeyd/\($0[0])" })
    }

    @Test func theAccountsAreTheOnesSysusersMakes() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let sysusers = try String(contentsOfFile: repositoryPath("systemd/wbkeyd.sysusers"), encoding: .utf8)
        let lines = sysusers.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let users = lines.filter { $0.first == "u" }.map { String($0[1]) }
        let groups = lines.filter { $0.first == "g" }.map { String($0[1]) }
        let user = try #require(service.values("User").first)
        #expect(users.contains(user))
        #expect(service.values("Group") == [user], "the daemon's own group holds nobody else (see tmpfiles)")
        #expect(groups.contains(try example().configuration.control.adminGroup))
        #expect(groups.contains("wbkeyd-spool"))
        #expect(groups.contains(try #require(UnitFile.shipped("wbkeyd.socket").values("SocketGroup").first)))
        #expect(groups.contains("wbkeyd-agents"), "the agent group the example config names")
    }

    @Test func systemdRunsTheDefaultConfig() throws {
        let service = try UnitFile.shipped("wbkeyd.service")
        let start = try #require(service.values("ExecStart").first)
        #expect(start == "/usr/bin/wbkeyd --config /etc/wbkeyd/wbkeyd.toml")
        #expect(service.values("Type") == ["notify"])
        // A file the daemon would refuse fails `systemctl reload` before any signal (the
        // check runs as the service, in its sandbox), with the same file the daemon runs
        // on; --reload, since credentials are not readable there under systemd 252.
        #expect(service.values("ExecReload") == ["/usr/bin/wbkeyd check-config --reload --quiet --config /etc/wbkeyd/wbkeyd.toml", "/bin/kill -HUP $MAINPID"])
    }
}

/// The assignments of a systemd unit file, enough for the checks above: comments and
/// section headers skipped, each `Key=value` kept in order.
struct UnitFile {
    let assignments: [(key: String, value: String)]

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        assignments = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    static func shipped(_ name: String) throws -> UnitFile {
        try UnitFile(path: repositoryPath("systemd/" + name))
    }

    func values(_ key: String) -> [String] {
        assignments.filter { $0.key == key }.flatMap { entry in
            // List-valued keys may carry several space-separated entries on one line.
            ["Requires", "After", "Wants"].contains(key) ? entry.value.split(separator: " ").map(String.init) : [entry.value]
        }
    }
}

func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

import DaemonConfig
import Foundation
import Testing

/// etc/wbkeyd.toml is what operators copy: it must load, show every key with its default,
/// and document each band the validator enforces.
@Suite struct ExampleConfigurationTests {
    let accounts = FakeAccountDirectory(groups: [GroupAccount(name: "wbkeyd-admin", gid: 990)])

    @Test func loadsAndValidates() throws {
        let loader = ConfigurationLoader(accounts: accounts, environment: ["CREDENTIALS_DIRECTORY": testCredentialsDirectory])
        let loaded = try loader.load(path: exampleConfigPath)
        var expected = DaemonConfiguration()
        expected.whitebit.clientID = "your-client-id"
        #expect(loaded.configuration == expected, "the example must show the defaults")
        #expect(loaded.access.adminGroup?.gid == 990)
    }

    @Test func showsEveryKey() throws {
        let text = try String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        for setting in DaemonConfiguration().settings {
            #expect(text.contains("\n\(setting.name) = "), "missing \(setting.key)")
            #expect(text.contains("[\(setting.section)]"))
        }
    }

    @Test func documentsTheBands() throws {
        let text = try String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        let bands: [DurationBand] = [
            ConfigurationBands.requestTimeout, ConfigurationBands.rescanInterval, ConfigurationBands.maxCodeAge,
            ConfigurationBands.infoPollInterval, ConfigurationBands.reconcileInterval, ConfigurationBands.expiryMargin,
            ConfigurationBands.auditRetention,
        ]
        for band in bands {
            let written = "Band: " + band.description.replacingOccurrences(of: "–", with: "-")
            #expect(text.contains(written), "\(written) is not in the example")
        }
        #expect(text.contains("Band: 1-256"))
        #expect(text.contains("Band: 0.1-1000"))
        #expect(text.contains("at most 10m"))
        #expect(text.contains("at most 107 bytes"))
    }
}

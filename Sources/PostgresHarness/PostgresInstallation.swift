import Foundation

/// The server programs of Debian's layout, `/usr/lib/postgresql/<major>/bin`, highest major
/// first. Not the `/usr/bin` wrappers (pg_wrapper wants a cluster of its own) and not
/// `/usr/local/bin` links: a fresh machine has neither for the server programs.
public struct PostgresInstallation: Sendable, Equatable {
    public let major: Int
    public let binDirectory: String

    public var initdb: String { binDirectory + "/initdb" }
    public var postgres: String { binDirectory + "/postgres" }
    public var psql: String { binDirectory + "/psql" }

    public static let root = "/usr/lib/postgresql"

    /// The highest major under `root` that has every program the harness runs. `pg_ctl` is
    /// not among them: it leaves the postmaster to a shell of its own, out of reach of
    /// `die-with-parent`.
    public static func find(under root: String = root) throws(PostgresHarnessError) -> PostgresInstallation {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let majors = names.compactMap { Int($0) }.sorted(by: >)
        guard let highest = majors.first else {
            throw .installationNotFound(missing: "<major>/bin", searched: root)
        }
        let installation = PostgresInstallation(major: highest, binDirectory: "\(root)/\(highest)/bin")
        for program in [installation.initdb, installation.postgres, installation.psql] where access(program, X_OK) != 0 {
            throw .installationNotFound(missing: URL(fileURLWithPath: program).lastPathComponent, searched: installation.binDirectory)
        }
        return installation
    }
}

import ArgumentParser
import DaemonConfig
import Foundation
import Store

/// What the offline subcommands (`audit-verify`, `migrate-store`) work with: the master
/// key, the PostgreSQL password for a store named by URL, and the configuration when one is
/// given, read once and in one order of precedence for all of them.
struct KeySource {
    let masterKey: Data
    let password: CredentialLocation?
    let loaded: LoadedConfiguration?

    static let defaultStorePath = "/var/lib/wbkeyd/wbkeyd.sqlite3"

    /// The master key from `masterKeyFile`, else the configuration's, else the credentials
    /// directory; a password from `passwordFile`, else the configuration's, else
    /// `$CREDENTIALS_DIRECTORY/store-password` when it exists.
    static func resolve(masterKeyFile: String?, config: String?, passwordFile: String?) throws -> KeySource {
        var loaded: LoadedConfiguration?
        if let config {
            do {
                loaded = try ConfigurationLoader().load(path: config)
            } catch {
                throw ValidationError("--config \(config) refused:\n\(error)")
            }
        }
        let key = masterKeyFile.map { CredentialLocation(key: "--master-key-file", path: $0, source: .configured) }
            ?? loaded?.credentials.masterKey
        let password = passwordFile.map { CredentialLocation(key: "--password-file", path: $0, source: .configured) }
            ?? loaded?.credentials.storePassword
            ?? CredentialLocations.storePassword(setting: "", environment: ProcessInfo.processInfo.environment)
        return KeySource(masterKey: try masterKey(key), password: password, loaded: loaded)
    }

    /// `given` (a path or a URL), else the configuration's store, else the default path.
    func store(_ given: String?, option: String) throws -> StoreLocation {
        if let given { return try StoreLocation.parse(given, option: option, password: password) }
        return loaded.map(StoreLocation.configured) ?? .sqlite(path: Self.defaultStorePath)
    }

    private static func masterKey(_ given: CredentialLocation?) throws -> Data {
        var location = given
        if location == nil {
            guard let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw ValidationError("the chain is keyed: give --master-key-file PATH or --config PATH, or set CREDENTIALS_DIRECTORY")
            }
            location = CredentialLocation(key: "master-key", path: directory + "/master-key", source: .credentialsDirectory)
        }
        guard let location else { throw ValidationError("no master key") }
        do {
            return Data(try CredentialFile.readMasterKey(at: location).bytes)
        } catch {
            throw ValidationError("master key refused: \(error)")
        }
    }

    static func readKey(_ path: String, option: String) throws(CredentialError) -> Data {
        Data(try CredentialFile.readMasterKey(at: CredentialLocation(key: option, path: path, source: .configured)).bytes)
    }
}

/// check-config's test of the master key against the store it configures.
enum MasterKeyCheck {
    /// Nil when the key fits the store, or there is no store yet (the first start keys it).
    static func problem(storePath: String, masterKey: Data) -> String? {
        guard FileManager.default.fileExists(atPath: storePath) else { return nil }
        do {
            let sealer = try Sealer(masterKey: masterKey)
            let queue = try StoreDatabase.openReadOnly(path: storePath)
            defer { try? queue.close() }
            _ = try queue.read { db in try StoreKeyring.read(sealer: sealer, path: storePath, in: db) }
            return nil
        } catch let error as StoreError where error.isKeyProblem {
            return "\(error)"
        } catch {
            // A store check-config cannot read (another user's file) is the daemon's to judge.
            return nil
        }
    }
}

extension StoreError {
    /// Errors that a restart cannot mend: the master key does not fit the store.
    var isKeyProblem: Bool {
        switch self {
        case .wrongMasterKey, .keys: true
        default: false
        }
    }
}

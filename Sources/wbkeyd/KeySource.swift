import ArgumentParser
import DaemonConfig
import Foundation
import Store

/// Where the offline subcommands (`audit-verify`, `migrate-store`, `rewrap`,
/// `check-config`) get the store and the master key from.
struct KeySource {
    let store: StoreLocation
    let masterKey: Data

    static let defaultStorePath = "/var/lib/wbkeyd/wbkeyd.sqlite3"

    /// `store` (a path or a URL) else the configuration's store else the default path; the
    /// master key from `masterKeyFile`, else the configuration's, else the credentials
    /// directory; a PostgreSQL password from `passwordFile`, else the configuration's, else
    /// `$CREDENTIALS_DIRECTORY/store-password` when it exists.
    static func resolve(store: String?, masterKeyFile: String?, config: String?, passwordFile: String? = nil) throws -> KeySource {
        var location: CredentialLocation?
        if let masterKeyFile {
            location = CredentialLocation(key: "--master-key-file", path: masterKeyFile, source: .configured)
        }
        var loaded: LoadedConfiguration?
        if let config {
            do {
                loaded = try ConfigurationLoader().load(path: config)
            } catch {
                throw ValidationError("--config \(config) refused:\n\(error)")
            }
            location = location ?? loaded?.credentials.masterKey
        }
        let password = passwordFile != nil || loaded?.credentials.storePassword == nil
            ? StoreLocation.passwordLocation(option: passwordFile) : loaded?.credentials.storePassword
        let chosen: StoreLocation = if let store {
            try StoreLocation.parse(store, option: "--store", password: password)
        } else if let loaded {
            StoreLocation.configured(loaded)
        } else {
            .sqlite(path: defaultStorePath)
        }
        return KeySource(store: chosen, masterKey: try masterKey(location))
    }

    static func masterKey(_ given: CredentialLocation?) throws -> Data {
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

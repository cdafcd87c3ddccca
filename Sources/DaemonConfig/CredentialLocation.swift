import Foundation

/// Where one credential is read from, and why there: the config named a file, or the
/// setting was empty and systemd's `LoadCredential=` directory supplies it.
public struct CredentialLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Source: Sendable, Equatable {
        /// The path written in the config.
        case configured
        /// `$CREDENTIALS_DIRECTORY/<name>`, because the setting was empty.
        case credentialsDirectory
    }

    /// The dotted config key this credential belongs to, e.g. `store.master_key_file`.
    public let key: String
    public let path: String
    public let source: Source

    public init(key: String, path: String, source: Source) {
        self.key = key
        self.path = path
        self.source = source
    }

    /// `/run/credentials/wbkeyd.service/master-key (from $CREDENTIALS_DIRECTORY)`
    public var description: String {
        switch source {
        case .configured: path
        case .credentialsDirectory: "\(path) (from $CREDENTIALS_DIRECTORY)"
        }
    }

    /// Resolves a credential setting. An empty setting needs `$CREDENTIALS_DIRECTORY`; its
    /// absence is an error naming the key, since wbkeyd cannot start without the credential.
    static func resolve(
        key: String, setting: String, credentialName: String, environment: [String: String]
    ) -> Result<CredentialLocation, CredentialSettingError> {
        if !setting.isEmpty {
            return .success(CredentialLocation(key: key, path: setting, source: .configured))
        }
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
            return .failure(CredentialSettingError(reason:
                "empty, and CREDENTIALS_DIRECTORY is not set; give the path of the file, "
                    + "or run under systemd with LoadCredential=\(credentialName):…"))
        }
        guard directory.hasPrefix("/") else {
            return .failure(CredentialSettingError(reason: "empty, and CREDENTIALS_DIRECTORY (\(directory)) is not an absolute path"))
        }
        let separator = directory.hasSuffix("/") ? "" : "/"
        return .success(CredentialLocation(key: key, path: directory + separator + credentialName, source: .credentialsDirectory))
    }
}

struct CredentialSettingError: Error {
    let reason: String
}

/// The credentials wbkeyd reads (docs/design.md §3, §13): none is ever in the config itself.
public struct CredentialLocations: Sendable, Equatable {
    public let clientSecret: CredentialLocation
    public let masterKey: CredentialLocation
    /// The PostgreSQL password (`CredentialFile.readStorePassword`); nil with SQLite, or
    /// when neither `store.password_file` nor `$CREDENTIALS_DIRECTORY/store-password` gives
    /// one: then the server authenticates wbkeyd without (peer, trust, a client certificate).
    public let storePassword: CredentialLocation?

    public init(clientSecret: CredentialLocation, masterKey: CredentialLocation, storePassword: CredentialLocation? = nil) {
        self.clientSecret = clientSecret
        self.masterKey = masterKey
        self.storePassword = storePassword
    }

    static let clientSecretKey = "whitebit.client_secret_file"
    static let masterKeyKey = "store.master_key_file"
    static let storePasswordKey = "store.password_file"
    static let storePasswordName = "store-password"

    /// The configured file, else `$CREDENTIALS_DIRECTORY/store-password` when that exists
    /// (lstat: a link there is found, then refused by `CredentialFile` as links are).
    public static func storePassword(setting: String, environment: [String: String]) -> CredentialLocation? {
        if !setting.isEmpty { return CredentialLocation(key: storePasswordKey, path: setting, source: .configured) }
        guard case .success(let location) = CredentialLocation.resolve(
            key: storePasswordKey, setting: "", credentialName: storePasswordName, environment: environment)
        else { return nil }
        var status = stat()
        return lstat(location.path, &status) == 0 ? location : nil
    }
}

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

/// The two credentials wbkeyd needs (docs/design.md §3): neither is ever in the config itself.
public struct CredentialLocations: Sendable, Equatable {
    public let clientSecret: CredentialLocation
    public let masterKey: CredentialLocation

    public init(clientSecret: CredentialLocation, masterKey: CredentialLocation) {
        self.clientSecret = clientSecret
        self.masterKey = masterKey
    }

    static let clientSecretKey = "whitebit.client_secret_file"
    static let masterKeyKey = "store.master_key_file"
}

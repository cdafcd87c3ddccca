import Foundation
import TOMLKit

/// A configuration that passed every check, with what its names and credential settings
/// resolve to on this machine.
public struct LoadedConfiguration: Sendable, Equatable {
    /// The file it came from, for messages.
    public let path: String
    public let configuration: DaemonConfiguration
    public let access: AccessPolicy
    public let credentials: CredentialLocations

    public init(path: String, configuration: DaemonConfiguration, access: AccessPolicy, credentials: CredentialLocations) {
        self.path = path
        self.configuration = configuration
        self.access = access
        self.credentials = credentials
    }
}

/// Reads wbkeyd.toml and checks it completely: syntax, types, unknown sections and keys,
/// bands, names in the account database, and where the credentials will come from. It
/// reports every problem of the file at once, or none.
///
/// It does not read the credential files themselves (see `CredentialFile`), so that a
/// reload can check a new config without touching secrets it does not need again.
public struct ConfigurationLoader: Sendable {
    public var accounts: any AccountDirectory
    public var environment: [String: String]

    /// A config file is a few kilobytes; anything far larger is surely the wrong file.
    static let maxFileBytes = 1 << 20

    public init(
        accounts: any AccountDirectory = SystemAccountDirectory(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.accounts = accounts
        self.environment = environment
    }

    public func load(path: String) throws(ConfigurationError) -> LoadedConfiguration {
        let contents: RegularFile.Contents
        do {
            contents = try RegularFile.read(path: path, followSymlinks: true, maxBytes: Self.maxFileBytes)
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(file: path, location: .file, reason: "\(error)")])
        }
        guard let text = String(validating: contents.bytes, as: UTF8.self) else {
            throw ConfigurationError(problems: [ConfigurationProblem(file: path, location: .file, reason: "is not UTF-8 text")])
        }
        return try load(text: text, path: path)
    }

    /// Checks configuration text; `path` is only used to name the file in problems.
    public func load(text: String, path: String) throws(ConfigurationError) -> LoadedConfiguration {
        let root = try parse(text, path: path)
        let decoded = ConfigurationDecoder(file: path).decode(root)
        var problems = decoded.problems
        var validator = ConfigurationValidator(file: path, skip: decoded.isFaulted)
        validator.validate(decoded.configuration)
        problems += validator.problems

        let configuration = decoded.configuration
        let faulted = Set(problems.compactMap(\.key))
        let skip = { (key: String) in faulted.contains(key) || decoded.isFaulted(key) }

        let (access, accessProblems) = AccessPolicy.resolve(configuration.control, in: accounts)
        for (key, reason) in accessProblems where !skip(key) {
            problems.append(ConfigurationProblem(file: path, key: key, reason: reason))
        }

        let clientSecret = resolveCredential(
            CredentialLocations.clientSecretKey, configuration.whitebit.clientSecretFile, "client-secret", path, skip, &problems)
        let masterKey = resolveCredential(
            CredentialLocations.masterKeyKey, configuration.store.masterKeyFile, "master-key", path, skip, &problems)

        guard problems.isEmpty, let clientSecret, let masterKey else {
            throw ConfigurationError(problems: Self.inFileOrder(problems))
        }
        let storePassword = configuration.store.backend == .postgresql
            ? CredentialLocations.storePassword(setting: configuration.store.passwordFile, environment: environment) : nil
        return LoadedConfiguration(
            path: path, configuration: configuration, access: access,
            credentials: CredentialLocations(clientSecret: clientSecret, masterKey: masterKey, storePassword: storePassword))
    }

    /// Problems sorted as the keys appear in the example file, unknown keys after the known
    /// ones of their section, unknown sections last: the order an operator reads the file in.
    static func inFileOrder(_ problems: [ConfigurationProblem]) -> [ConfigurationProblem] {
        let keyOrder = Dictionary(uniqueKeysWithValues: DaemonConfiguration().settings.enumerated().map { ($1.key, $0) })
        func rank(_ problem: ConfigurationProblem) -> (Int, Int) {
            guard let key = problem.key else { return (-1, 0) }
            let section = ConfigurationDecoder.sections.firstIndex(of: String(key.prefix { $0 != "." }))
            return (section ?? ConfigurationDecoder.sections.count, keyOrder[key] ?? Int.max)
        }
        return problems.enumerated()
            .sorted { lhs, rhs in
                let (left, right) = (rank(lhs.element), rank(rhs.element))
                return left != right ? left < right : lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    private func parse(_ text: String, path: String) throws(ConfigurationError) -> TOMLTable {
        // TOMLKit hands strings over as C strings, which would silently cut a value at an
        // escaped NUL; no setting of wbkeyd can contain one, so refuse it up front.
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let range = line.range(of: #"\\u0000|\\U00000000"#, options: [.regularExpression, .caseInsensitive]) {
                let column = line.distance(from: line.startIndex, to: range.lowerBound) + 1
                throw ConfigurationError(problems: [ConfigurationProblem(
                    file: path, location: .line(index + 1, column: column), reason: "NUL characters are not allowed")])
            }
        }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            throw ConfigurationError(problems: [ConfigurationProblem(
                file: path, location: .line(position.line, column: position.column), reason: error.description)])
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(file: path, location: .file, reason: "\(error)")])
        }
    }

    private func resolveCredential(
        _ key: String, _ setting: String, _ credentialName: String, _ path: String,
        _ skip: (String) -> Bool, _ problems: inout [ConfigurationProblem]
    ) -> CredentialLocation? {
        guard !skip(key) else { return nil }
        switch CredentialLocation.resolve(key: key, setting: setting, credentialName: credentialName, environment: environment) {
        case .success(let location):
            return location
        case .failure(let error):
            problems.append(ConfigurationProblem(file: path, key: key, reason: error.reason))
            return nil
        }
    }
}

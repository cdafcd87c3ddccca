/// One thing wrong with a configuration file. It names the file and either the dotted key
/// (`keys.reconcile_interval`) or, for a syntax error, the line, so an operator can go
/// straight to it. It never carries a secret: credential problems say which key and why,
/// never what the file held.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Location: Sendable, Hashable {
        /// The file as a whole: unreadable, too large.
        case file
        /// A syntax error at this line (and column, 1-based).
        case line(Int, column: Int)
        /// A section or a key, dotted: `control`, `keys.reconcile_interval`.
        case key(String)
    }

    public let file: String
    public let location: Location
    public let reason: String

    public init(file: String, location: Location, reason: String) {
        self.file = file
        self.location = location
        self.reason = reason
    }

    public init(file: String, key: String, reason: String) {
        self.init(file: file, location: .key(key), reason: reason)
    }

    /// The dotted key, when the problem is about one.
    public var key: String? {
        if case .key(let key) = location { return key }
        return nil
    }

    /// `PATH: KEY: reason`, `PATH: line N, column C: reason` or `PATH: reason`.
    public var description: String {
        switch location {
        case .file: "\(file): \(reason)"
        case .line(let line, let column): "\(file): line \(line), column \(column): \(reason)"
        case .key(let key): "\(file): \(key): \(reason)"
        }
    }
}

/// A configuration that cannot be used, with every problem found in it: an operator fixing
/// a file should see all that is wrong at once, not one complaint per restart.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let problems: [ConfigurationProblem]

    public init(problems: [ConfigurationProblem]) {
        self.problems = problems
    }

    /// One line per problem.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

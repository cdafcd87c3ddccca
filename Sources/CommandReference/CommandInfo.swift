import Foundation

/// One command as `--experimental-dump-help` describes it (ArgumentParser's ToolInfoV0,
/// whose module is not a product of swift-argument-parser, so it is mirrored here with the
/// fields the reference uses).
public struct CommandInfo: Decodable, Sendable, Equatable {
    public var commandName: String
    public var superCommands: [String]?
    public var abstract: String?
    public var discussion: String?
    public var shouldDisplay: Bool?
    public var subcommands: [CommandInfo]?
    public var arguments: [ArgumentInfo]?

    /// `wbkeyctl submit`: the command as an operator types it.
    public var fullName: String { ((superCommands ?? []) + [commandName]).joined(separator: " ") }

    /// The subcommands an operator can name. ArgumentParser adds its own `help` to every
    /// command with subcommands; where the program has one of its own, the dump lists
    /// both under one name and the program's (the first) is the one that runs.
    public var namedSubcommands: [CommandInfo] {
        var seen: Set<String> = []
        return (subcommands ?? []).filter { seen.insert($0.commandName).inserted }
    }

    /// The subcommands worth a line in a reference: not hidden, and not ArgumentParser's
    /// own `help` (every command answers `--help` the same way).
    public var documentedSubcommands: [CommandInfo] {
        namedSubcommands.filter { $0.shouldDisplay != false && !$0.isArgumentParserHelp }
    }

    public var isArgumentParserHelp: Bool {
        commandName == "help" && abstract == "Show subcommand help information."
    }

    /// The subcommand named `name`, if the program has one.
    public func subcommand(named name: String) -> CommandInfo? {
        namedSubcommands.first { $0.commandName == name }
    }

    /// Every argument the command accepts, shown in help or not.
    public var allArguments: [ArgumentInfo] { arguments ?? [] }

    /// The arguments a reference describes: shown in help, without `--help` (every
    /// command has it) and, below the program, without `--version` (it is the program's).
    public var documentedArguments: [ArgumentInfo] {
        allArguments.filter { argument in
            argument.shouldDisplay && !argument.isHelpFlag && !(superCommands != nil && argument.isVersionFlag)
        }
    }

    /// Decodes one program's `--experimental-dump-help` output.
    public static func decodeDump(_ data: Data) throws -> CommandInfo {
        try JSONDecoder().decode(Dump.self, from: data).command
    }

    private struct Dump: Decodable {
        var command: CommandInfo
    }
}

/// One option, flag or positional argument of a command.
public struct ArgumentInfo: Decodable, Sendable, Equatable {
    public enum Kind: String, Decodable, Sendable {
        case positional, option, flag
    }

    public struct Name: Decodable, Sendable, Equatable {
        public enum Kind: String, Decodable, Sendable {
            case long, short, longWithSingleDash
        }

        public var kind: Kind
        public var name: String

        /// `--config`, `-h`, `-config`: as typed.
        public var spelled: String {
            switch kind {
            case .long: "--\(name)"
            case .short: "-\(name)"
            case .longWithSingleDash: "-\(name)"
            }
        }
    }

    public var kind: Kind
    public var shouldDisplay: Bool
    public var isOptional: Bool
    public var isRepeating: Bool
    public var names: [Name]?
    public var preferredName: Name?
    public var valueName: String?
    public var defaultValue: String?
    public var abstract: String?
    public var discussion: String?

    /// Every spelling of an option or flag (`-h`, `--help`); none for a positional.
    public var spellings: [String] { (names ?? []).map(\.spelled) }

    /// Whether the word after this option is its value.
    public var takesValue: Bool { kind == .option }

    var isHelpFlag: Bool { kind == .flag && (names ?? []).contains { $0.name == "help" } }
    var isVersionFlag: Bool { kind == .flag && (names ?? []).contains { $0.kind == .long && $0.name == "version" } }

    /// `<user>`, `<path>`: the placeholder of a positional or of an option's value.
    public var placeholder: String { "<\(valueName ?? preferredName?.name ?? "value")>" }

    /// `--socket <path>`, `--dry-run`, `-h, --help`, `<user>`, `<reason> …`.
    public var synopsis: String {
        var text: String
        switch kind {
        case .positional: text = placeholder
        case .flag: text = spellings.joined(separator: ", ")
        case .option: text = spellings.joined(separator: ", ") + " " + placeholder
        }
        if isRepeating { text += " …" }
        return text
    }

    /// Same option as another command's: same names, value, default and text. A
    /// subcommand that repeats its parent's options (wbkeyctl's `--socket`) is then
    /// described once.
    func isSameOption(as other: ArgumentInfo) -> Bool {
        kind == other.kind && names == other.names && valueName == other.valueName
            && defaultValue == other.defaultValue && abstract == other.abstract
    }
}

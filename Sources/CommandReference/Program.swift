/// A program of the package that the reference and the manual pages describe.
public struct Program: Sendable, Equatable {
    public let name: String
    /// Whether the program does its work without a subcommand (`wbkeyd` runs the daemon);
    /// the dump cannot tell, and the usage line should.
    public let runsWithoutSubcommand: Bool

    public init(name: String, runsWithoutSubcommand: Bool) {
        self.name = name
        self.runsWithoutSubcommand = runsWithoutSubcommand
    }

    /// The programs an operator runs, in the order the README presents them.
    public static let documented: [Program] = [
        Program(name: "wbkeyd", runsWithoutSubcommand: true),
        Program(name: "wbkeyctl", runsWithoutSubcommand: false),
        Program(name: "whitebit-sim", runsWithoutSubcommand: true),
    ]
}

/// A program with its dump: what the renderers and the checker work from.
public struct DescribedProgram: Sendable {
    public let program: Program
    public let command: CommandInfo

    public init(program: Program, command: CommandInfo) {
        self.program = program
        self.command = command
    }

    public var name: String { program.name }
}

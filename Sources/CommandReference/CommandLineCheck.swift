/// Whether a command line uses only subcommands and options the program has, by its
/// dump. Values and positional arguments are not judged: the README may show
/// placeholders there.
public enum CommandLineCheck {
    /// What is wrong with `arguments` for `program`; empty when nothing is.
    public static func problems(_ arguments: [String], program: CommandInfo) -> [String] {
        var problems: [String] = []
        var stack = [program]
        var positionals = 0
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            let command = stack[stack.count - 1]
            if word == "--" { break }
            if word.hasPrefix("-"), word.count > 1, Double(word) == nil {
                let name = word.hasPrefix("--") ? String(word.prefix { $0 != "=" }) : word
                // ArgumentParser takes a parent's options after a subcommand too.
                guard let argument = stack.reversed().lazy.compactMap({ $0.allArguments.first { $0.spellings.contains(name) } }).first else {
                    problems.append("`\(command.fullName)` has no option \(name)")
                    continue
                }
                if argument.takesValue, !word.contains("=") { index += 1 }
                continue
            }
            let takesPositionals = command.allArguments.contains { $0.kind == .positional }
            if positionals == 0, !command.namedSubcommands.isEmpty {
                if let subcommand = command.subcommand(named: word) {
                    stack.append(subcommand)
                    continue
                }
                if !takesPositionals {
                    problems.append("`\(command.fullName)` has no subcommand `\(word)`")
                    break
                }
            }
            positionals += 1
        }
        return problems
    }
}

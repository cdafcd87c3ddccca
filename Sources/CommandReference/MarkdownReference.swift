import Foundation

/// The README's command reference: for each program its usage, options with defaults,
/// and each subcommand with its one-line abstract and its own arguments. Rendered from
/// the programs' dumps, so the README cannot drift from what they accept.
public enum MarkdownReference {
    public static func render(_ programs: [DescribedProgram]) -> String {
        var lines = [
            "Generated from each program's `--experimental-dump-help` by `scripts/command-reference`;",
            "`PROGRAM --help` and `man PROGRAM` have the longer texts. Every command also takes `-h`, `--help`.",
        ]
        for described in programs {
            lines += [""] + program(described)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func program(_ described: DescribedProgram) -> [String] {
        let root = described.command
        var lines = ["### `\(root.commandName)`", ""]
        lines += abstract(root, usage: usage(root, runsWithoutSubcommand: described.program.runsWithoutSubcommand))
        lines += table(root.documentedArguments)
        let subcommands = root.documentedSubcommands
        if !subcommands.isEmpty {
            let names = subcommands.map { "`\($0.commandName)`" }.joined(separator: ", ")
            lines += ["", "Subcommands: \(names)."]
        }
        for subcommand in subcommands {
            lines += ["", "#### `\(subcommand.fullName)`", ""]
            lines += abstract(subcommand, usage: usage(subcommand, runsWithoutSubcommand: true))
            let inherited = subcommand.documentedArguments.filter { argument in
                argument.kind != .positional && root.allArguments.contains { $0.isSameOption(as: argument) }
            }
            let own = subcommand.documentedArguments.filter { argument in !inherited.contains(argument) }
            lines += table(own)
            if !inherited.isEmpty {
                let spelled = inherited.map { "`\($0.spellings.last ?? $0.synopsis)`" }.joined(separator: ", ")
                lines += ["", "Also takes \(spelled), as `\(root.commandName)` does."]
            }
        }
        return lines
    }

    /// `wbkeyctl revoke [<options>] <user> [<reason> …]`: options stay one placeholder
    /// unless required, positionals are spelled out, as ArgumentParser's own usage does.
    public static func usage(_ command: CommandInfo, runsWithoutSubcommand: Bool) -> String {
        var words = [command.fullName]
        let arguments = command.documentedArguments
        words += arguments.filter { $0.kind == .option && !$0.isOptional }.map { "\($0.spellings.last ?? "") \($0.placeholder)" }
        if arguments.contains(where: { $0.kind != .positional && $0.isOptional }) { words.append("[<options>]") }
        for positional in arguments where positional.kind == .positional {
            let word = positional.placeholder + (positional.isRepeating ? " …" : "")
            words.append(positional.isOptional ? "[\(word)]" : word)
        }
        if !command.documentedSubcommands.isEmpty {
            words.append(runsWithoutSubcommand ? "[<subcommand>]" : "<subcommand>")
        }
        return words.joined(separator: " ")
    }

    /// The abstract, then the usage as a paragraph of its own.
    static func abstract(_ command: CommandInfo, usage: String) -> [String] {
        guard let text = command.abstract, !text.isEmpty else { return ["Usage: `\(usage)`"] }
        return [inline(text), "", "Usage: `\(usage)`"]
    }

    static func table(_ arguments: [ArgumentInfo]) -> [String] {
        guard !arguments.isEmpty else { return [] }
        var lines = ["", "| argument | default | meaning |", "|---|---|---|"]
        for argument in arguments {
            let fallback = argument.isOptional ? "" : "required"
            let defaultValue = argument.defaultValue.map { "`\(cell($0))`" } ?? fallback
            lines.append("| `\(cell(argument.synopsis))` | \(defaultValue) | \(cell(inline(argument.abstract ?? ""))) |")
        }
        return lines
    }

    /// A table cell: GitHub ends a cell at any `|`, inside a code span too.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    /// Help text as Markdown: code spans stay as written; outside them `<` would open an
    /// HTML tag and `*` emphasis.
    static func inline(_ text: String) -> String {
        var result = ""
        var inCode = false
        for character in text {
            if character == "`" { inCode.toggle() }
            if !inCode, character == "<" {
                result += "&lt;"
            } else if !inCode, character == "*" {
                result += "\\*"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

import Foundation

/// A section-1 manual page in mdoc for one program and all its subcommands, from the
/// same dump as the README's reference.
public enum ManualPage {
    /// `date` is mdoc's `.Dd` text, e.g. `November 26, 2026`.
    public static func render(_ described: DescribedProgram, date: String, seeAlso: [String]) -> String {
        let root = described.command
        let (discussion, trailingSections) = sections(root.discussion)
        var lines = [
            ".Dd \(date)",
            ".Dt \(root.commandName.uppercased()) 1",
            // The footer names the package; without a name groff prints "BSD".
            ".Os wbkeyd",
            ".Sh NAME",
            ".Nm \(Roff.argument(root.commandName))",
            ".Nd \(Roff.arguments(lowercasedFirstWord(root.abstract ?? "")))",
            ".Sh SYNOPSIS",
        ]
        lines += synopsis(root, inherited: [], runsWithoutSubcommand: described.program.runsWithoutSubcommand)
        for subcommand in root.documentedSubcommands {
            lines += synopsis(subcommand, inherited: inheritedOptions(subcommand, root: root), runsWithoutSubcommand: true)
        }
        lines += [".Sh DESCRIPTION"] + Roff.text(root.abstract ?? "") + discussion.flatMap { [".Pp"] + $0 }
        let options = root.documentedArguments
        if !options.isEmpty {
            lines += [".Sh OPTIONS"] + list(options)
        }
        if !root.documentedSubcommands.isEmpty {
            lines.append(".Sh COMMANDS")
            for subcommand in root.documentedSubcommands {
                lines += command(subcommand, root: root)
            }
        }
        for (title, body) in trailingSections {
            lines += [".Sh \(Roff.argument(title))"] + body
        }
        let others = seeAlso.filter { $0 != root.commandName }
        if !others.isEmpty {
            lines.append(".Sh SEE ALSO")
            for (index, other) in others.enumerated() {
                lines.append(".Xr \(Roff.argument(other)) 1" + (index < others.count - 1 ? " ," : ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func command(_ subcommand: CommandInfo, root: CommandInfo) -> [String] {
        var lines = [".Ss \(Roff.argument(subcommand.commandName))"] + Roff.text(subcommand.abstract ?? "")
        let (discussion, headed) = sections(subcommand.discussion)
        lines += discussion.flatMap { [".Pp"] + $0 }
        // Headed paragraphs below a subcommand stay in its subsection.
        for (title, body) in headed {
            lines += [".Pp"] + Roff.text(title) + body
        }
        let inherited = inheritedOptions(subcommand, root: root)
        let own = subcommand.documentedArguments.filter { !inherited.contains($0) }
        if !own.isEmpty { lines += list(own) }
        if !inherited.isEmpty {
            let names = inherited.map { $0.spellings.last ?? "" }.joined(separator: ", ")
            lines += [".Pp"] + Roff.text("Also takes \(names), as \(root.commandName) does.")
        }
        return lines
    }

    static func inheritedOptions(_ subcommand: CommandInfo, root: CommandInfo) -> [ArgumentInfo] {
        subcommand.documentedArguments.filter { argument in
            argument.kind != .positional && root.allArguments.contains { $0.isSameOption(as: argument) }
        }
    }

    /// One synopsis line: `.Nm` starts it, options the command shares with the program
    /// shrink to `[options]`.
    static func synopsis(_ command: CommandInfo, inherited: [ArgumentInfo], runsWithoutSubcommand: Bool) -> [String] {
        var lines = [".Nm \(Roff.argument(command.superCommands?.first ?? command.commandName))"]
        if command.superCommands != nil { lines.append(".Cm \(Roff.argument(command.commandName))") }
        if !inherited.isEmpty { lines.append(".Op Ar options") }
        for argument in command.documentedArguments where !inherited.contains(argument) {
            let term = self.term(argument)
            lines.append(argument.isOptional ? ".Op \(term)" : ".\(term)")
        }
        if !command.documentedSubcommands.isEmpty {
            lines.append(runsWithoutSubcommand ? ".Op Ar subcommand" : ".Ar subcommand")
        }
        return lines
    }

    /// `Fl \-socket Ar path`, `Ar reason No ...`: a list head or a synopsis element.
    static func term(_ argument: ArgumentInfo) -> String {
        let name = Roff.argument(argument.valueName ?? argument.preferredName?.name ?? "value")
        var term: String
        switch argument.kind {
        case .positional: term = "Ar \(name)"
        case .flag: term = flags(argument)
        case .option: term = flags(argument) + " Ar \(name)"
        }
        if argument.isRepeating { term += " No ..." }
        return term
    }

    static func flags(_ argument: ArgumentInfo) -> String {
        argument.spellings.map { "Fl \(Roff.argument(String($0.dropFirst())))" }.joined(separator: " , ")
    }

    static func list(_ arguments: [ArgumentInfo]) -> [String] {
        var lines = [".Bl -tag -width Ds"]
        for argument in arguments {
            lines.append(".It \(term(argument))")
            lines += Roff.text(argument.abstract ?? "")
            if let value = argument.defaultValue {
                lines += Roff.text("Default: \(value).")
            } else if !argument.isOptional {
                lines += Roff.text("Required.")
            }
        }
        lines.append(".El")
        return lines
    }

    /// A discussion's paragraphs as mdoc, and apart from them the paragraphs headed by a
    /// line in capitals (`EXIT STATUS`, `ENVIRONMENT`), which become sections of their own.
    static func sections(_ discussion: String?) -> (paragraphs: [[String]], headed: [(String, [String])]) {
        guard let discussion, !discussion.isEmpty else { return ([], []) }
        var paragraphs: [[String]] = []
        var headed: [(String, [String])] = []
        for paragraph in discussion.components(separatedBy: "\n\n") where !paragraph.isEmpty {
            var lines = paragraph.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            if let first = lines.first, isHeading(first) {
                lines.removeFirst()
                // A section's own indentation is enough: no further offset.
                headed.append((first, block(lines, offset: false)))
            } else {
                paragraphs.append(block(lines))
            }
        }
        return (paragraphs, headed)
    }

    static func isHeading(_ line: String) -> Bool {
        line.count > 2 && line.allSatisfy { $0.isUppercase || $0 == " " }
    }

    /// Flowing lines as text; indented lines as they are, in a literal display.
    static func block(_ lines: [String], offset: Bool = true) -> [String] {
        var output: [String] = []
        var literal: [String] = []
        func flushLiteral() {
            guard !literal.isEmpty else { return }
            let indent = literal.map { $0.prefix { $0 == " " }.count }.min() ?? 0
            output += [offset ? ".Bd -literal -offset indent" : ".Bd -literal"] + literal.map { Roff.literalLine(String($0.dropFirst(indent))) } + [".Ed"]
            literal = []
        }
        for line in lines {
            if line.hasPrefix(" ") {
                literal.append(line)
            } else {
                flushLiteral()
                output += Roff.text(line)
            }
        }
        flushLiteral()
        return output
    }

    /// mdoc's `.Nd` reads as "wbkeyctl — talks to wbkeyd…".
    static func lowercasedFirstWord(_ text: String) -> String {
        guard let first = text.first, first.isUppercase else { return text }
        let word = text.prefix { $0 != " " }
        // An acronym (`WhiteBIT`, `A`) keeps its case.
        guard word.dropFirst().allSatisfy({ $0.isLowercase || !$0.isLetter }), word.count > 1 else { return text }
        return first.lowercased() + text.dropFirst()
    }
}

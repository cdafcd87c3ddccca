/// A command line of one of the programs as the README shows it, in a code block or an
/// inline code span.
public struct ShownCommand: Sendable, Equatable {
    /// 1-based line in the Markdown file.
    public let line: Int
    /// The shown text, for messages.
    public let text: String
    public let program: String
    public let arguments: [String]
}

public enum ShownCommands {
    /// Every invocation of one of `programs` (by name or as a path ending in `/NAME`, such
    /// as `.build/debug/wbkeyd`) in `markdown`'s fenced code blocks and inline code,
    /// except on the lines in `skipping`.
    public static func find(in markdown: String, programs: [String], skipping: ClosedRange<Int>? = nil) -> [ShownCommand] {
        var found: [ShownCommand] = []
        for snippet in snippets(markdown) where !(skipping?.contains(snippet.line) ?? false) {
            for words in ShellWords.commands(snippet.text) {
                guard let (name, arguments) = ShellWords.invocation(words),
                    let program = programs.first(where: { name == $0 || name.hasSuffix("/" + $0) })
                else { continue }
                found.append(ShownCommand(line: snippet.line, text: snippet.text, program: program, arguments: arguments))
            }
        }
        return found
    }

    struct Snippet {
        let line: Int
        let text: String
    }

    /// Lines of fenced code blocks (a trailing `\` joins the next line), and inline code
    /// spans of the text between them (a span may run over a line break).
    static func snippets(_ markdown: String) -> [Snippet] {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var snippets: [Snippet] = []
        var fence: String?
        var paragraph: [String] = []
        var paragraphStart = 0
        var continued: Snippet?

        func flushParagraph() {
            snippets += inlineSpans(paragraph.joined(separator: "\n"), firstLine: paragraphStart)
            paragraph = []
        }

        for (index, line) in lines.enumerated() {
            let number = index + 1
            let trimmed = line.drop { $0 == " " }
            if let open = fence {
                if trimmed.hasPrefix(open) {
                    fence = nil
                    continue
                }
                let joined = continued.map { Snippet(line: $0.line, text: $0.text + " " + line) } ?? Snippet(line: number, text: line)
                if line.hasSuffix("\\") {
                    continued = Snippet(line: joined.line, text: String(joined.text.dropLast()))
                } else {
                    continued = nil
                    snippets.append(joined)
                }
            } else if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flushParagraph()
                fence = String(trimmed.prefix(3))
            } else if trimmed.isEmpty {
                flushParagraph()
            } else {
                if paragraph.isEmpty { paragraphStart = number }
                paragraph.append(line)
            }
        }
        flushParagraph()
        return snippets
    }

    /// Code spans: a run of backticks up to the next run of the same length.
    static func inlineSpans(_ text: String, firstLine: Int) -> [Snippet] {
        var spans: [Snippet] = []
        let characters = Array(text)
        var index = 0
        var line = firstLine
        while index < characters.count {
            if characters[index] == "\n" { line += 1 }
            guard characters[index] == "`" else { index += 1; continue }
            var run = 0
            while index + run < characters.count, characters[index + run] == "`" { run += 1 }
            var search = index + run
            var closing: Int?
            while search < characters.count {
                if characters[search] == "`" {
                    var length = 0
                    while search + length < characters.count, characters[search + length] == "`" { length += 1 }
                    if length == run { closing = search; break }
                    search += length
                } else {
                    search += 1
                }
            }
            guard let end = closing else { index += run; continue }
            let content = String(characters[(index + run)..<end])
            spans.append(Snippet(line: line, text: content.replacingNewlines()))
            line += content.filter { $0 == "\n" }.count
            index = end + run
        }
        return spans
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" ? " " : $0 })
    }
}

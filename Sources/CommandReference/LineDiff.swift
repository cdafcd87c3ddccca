/// A line diff for failure messages: `-` lines of the old text, `+` lines of the new,
/// with a line of context around each change and `@@ line N` where a hunk starts.
public enum LineDiff {
    /// `firstLine` is the old text's first line number in its file, so hunks name file lines.
    public static func render(old: String, new: String, firstLine: Int = 1, context: Int = 1) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false)
        let edits = script(a, b)
        var shown = Set<Int>()
        for (index, edit) in edits.enumerated() where edit.mark != " " {
            shown.formUnion(max(0, index - context)...min(edits.count - 1, index + context))
        }
        var output: [String] = []
        var previous: Int?
        for index in shown.sorted() {
            if previous.map({ $0 + 1 != index }) ?? true {
                output.append("@@ line \(edits[index].oldLine + firstLine)")
            }
            output.append("\(edits[index].mark) \(edits[index].text)")
            previous = index
        }
        return output.joined(separator: "\n")
    }

    struct Edit {
        let mark: Character
        let text: Substring
        /// The old text's line at or just after this edit, for the hunk header.
        let oldLine: Int
    }

    /// Longest common subsequence, then a walk over it: fine for a README section.
    static func script(_ a: [Substring], _ b: [Substring]) -> [Edit] {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(Edit(mark: " ", text: a[i], oldLine: i))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] {
                edits.append(Edit(mark: "-", text: a[i], oldLine: i))
                i += 1
            } else {
                edits.append(Edit(mark: "+", text: b[j], oldLine: i))
                j += 1
            }
        }
        return edits
    }
}

/// Just enough of the shell's word splitting to find the commands in a README line:
/// quotes, comments, pipes and lists, subshells, substitutions and redirections.
/// Expansions are left as written (`"$STATE"` is the word `$STATE`).
enum ShellWords {
    /// The simple commands of `line`, each as its words.
    static func commands(_ line: String) -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        var word = ""
        var wordStarted = false
        var quote: Character?
        var redirectTarget = false
        var characters = Array(line)[...]

        func endWord() {
            if wordStarted {
                if redirectTarget { redirectTarget = false } else { words.append(word) }
            }
            word = ""
            wordStarted = false
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { commands.append(words) }
            words = []
        }

        while let character = characters.popFirst() {
            if let open = quote {
                if character == open {
                    quote = nil
                } else if open == "\"", character == "\\", let next = characters.popFirst() {
                    word.append(next)
                } else {
                    word.append(character)
                }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                wordStarted = true
            case "\\":
                if let next = characters.popFirst() { word.append(next) }
                wordStarted = true
            case "#" where !wordStarted:
                characters = []
            case " ", "\t":
                endWord()
            case "|", ";", "&", "(", ")", "`":
                endCommand()
            case "$" where characters.first == "(":
                endCommand()
            case "<", ">":
                // `2>` names a descriptor, not a word; the next word is a file.
                if wordStarted, word.allSatisfy(\.isNumber) { word = ""; wordStarted = false } else { endWord() }
                if characters.first == "(" {
                    redirectTarget = false
                    endCommand()
                    continue
                }
                while let next = characters.first, next == ">" || next == "&" || next == "<" { characters.removeFirst() }
                redirectTarget = true
            default:
                word.append(character)
                wordStarted = true
            }
        }
        endCommand()
        return commands
    }

    /// The command's name and its arguments: leading `NAME=value` assignments and
    /// wrappers (`sudo`, `exec`, `env` with their options) skipped.
    static func invocation(_ words: [String]) -> (name: String, arguments: [String])? {
        var rest = words[...]
        while let first = rest.first {
            if isAssignment(first) {
                rest.removeFirst()
            } else if ["sudo", "exec", "env", "time", "nohup", "command"].contains(first) {
                rest.removeFirst()
                while let option = rest.first, option.hasPrefix("-") { rest.removeFirst() }
            } else {
                break
            }
        }
        guard let name = rest.first else { return nil }
        return (name, Array(rest.dropFirst()))
    }

    static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        let name = word[..<equals]
        return name.first.map { $0 == "_" || $0.isLetter } == true && name.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }
}

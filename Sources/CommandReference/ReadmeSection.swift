/// The generated part of README.md, between two marker comments. Everything outside
/// them is written by people and left alone.
public struct ReadmeSection: Sendable {
    public static let beginMarker = "<!-- command-reference:begin -->"
    public static let endMarker = "<!-- command-reference:end -->"
    static let notice = "<!-- Generated: change the programs' help texts, then run scripts/command-reference. -->"

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case markersMissing
        case markersOutOfOrder

        public var description: String {
            switch self {
            case .markersMissing:
                "README.md needs the lines \(ReadmeSection.beginMarker) and \(ReadmeSection.endMarker), once each"
            case .markersOutOfOrder:
                "README.md has \(ReadmeSection.endMarker) before \(ReadmeSection.beginMarker)"
            }
        }
    }

    /// Lines before the begin marker, the generated body, lines from the end marker on.
    let before: [Substring]
    public let body: String
    let after: [Substring]

    public init(readme: String) throws(Problem) {
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        let begins = lines.indices.filter { lines[$0] == Self.beginMarker }
        let ends = lines.indices.filter { lines[$0] == Self.endMarker }
        guard begins.count == 1, ends.count == 1, let begin = begins.first, let end = ends.first else { throw .markersMissing }
        guard begin < end else { throw .markersOutOfOrder }
        before = Array(lines[...begin])
        after = Array(lines[end...])
        body = lines[(begin + 1)..<end].map { $0 + "\n" }.joined()
    }

    /// The README line (1-based) of the body's first line.
    public var bodyFirstLine: Int { before.count + 1 }

    /// The README lines (1-based) from marker to marker, which the generator owns.
    public var generatedLines: ClosedRange<Int> { before.count...(before.count + bodyLineCount + 1) }

    var bodyLineCount: Int { body.reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }

    /// What goes between the markers for `reference`: the heading is the generator's
    /// too, so the markers enclose the whole section.
    public static func body(for reference: String) -> String {
        "## Command reference\n\n" + notice + "\n\n" + reference + "\n"
    }

    /// The whole README with `body` between the markers.
    public func readme(withBody body: String) -> String {
        let middle = body.hasSuffix("\n") ? String(body.dropLast()) : body
        return (before.map(String.init) + [middle] + after.map(String.init)).joined(separator: "\n")
    }
}

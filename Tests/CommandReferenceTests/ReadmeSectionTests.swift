import CommandReference
import Testing

@Suite struct ReadmeSectionTests {
    static let readme = """
        # Title

        ## Configuration

        text
        <!-- command-reference:begin -->
        old line
        <!-- command-reference:end -->

        ## Development
        """

    @Test func replacesOnlyWhatIsBetweenTheMarkers() throws {
        let section = try ReadmeSection(readme: Self.readme)
        #expect(section.body == "old line\n")
        #expect(section.bodyFirstLine == 7)
        #expect(section.generatedLines == 6...8)
        let updated = section.readme(withBody: "new\nlines\n")
        #expect(updated == Self.readme.replacingOccurrences(of: "old line", with: "new\nlines"))
        #expect(try ReadmeSection(readme: updated).body == "new\nlines\n")
    }

    @Test func refusesAReadmeWithoutItsMarkers() {
        #expect(throws: ReadmeSection.Problem.markersMissing) { try ReadmeSection(readme: "# Title\n") }
        #expect(throws: ReadmeSection.Problem.markersMissing) {
            try ReadmeSection(readme: Self.readme + "\n" + ReadmeSection.beginMarker)
        }
        #expect(throws: ReadmeSection.Problem.markersOutOfOrder) {
            try ReadmeSection(readme: "\(ReadmeSection.endMarker)\n\(ReadmeSection.beginMarker)\n")
        }
    }

    @Test func diffShowsChangedLinesWithContextAndFileLines() {
        let old = "a\nb\nc\nd\ne\nf\ng\n"
        let new = "a\nB\nc\nd\ne\nf\ng\nh\n"
        #expect(LineDiff.render(old: old, new: new, firstLine: 10) == """
            @@ line 10
              a
            - b
            + B
              c
            @@ line 16
              g
            + h
              \("")
            """)
        #expect(LineDiff.render(old: old, new: old).isEmpty)
    }
}

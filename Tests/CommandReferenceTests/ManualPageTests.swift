import CommandReference
import Testing

@Suite struct ManualPageTests {
    func page() throws -> String {
        ManualPage.render(try Fixture.program, date: "November 26, 2026", seeAlso: ["tool", "other"])
    }

    @Test func headedParagraphsBecomeSectionsAndIndentedLinesStayAsWritten() throws {
        let page = try page()
        #expect(page.contains(".Sh EXIT STATUS\n.Bd -literal\n0  fine\n1  not fine\n.Ed\n"))
        #expect(page.contains("Examples:\n.Bd -literal -offset indent\ntool show u\\-1\ntool show \\-\\-json u\\-1\n.Ed\n"))
    }

    @Test func describesEveryCommandWithItsOwnArgumentsAndDefaults() throws {
        let page = try page()
        #expect(page.contains(".Nm tool\n.Op Fl \\-config Ar path\n.Op Fl \\-json\n.Ar subcommand\n"))
        #expect(page.contains(".Nm tool\n.Cm show\n.Op Ar options\n.Ar user\n.Op Ar reason No ...\n"))
        #expect(page.contains(".It Fl \\-config Ar path\nThe configuration file.\nDefault: /etc/tool.toml.\n"))
        #expect(page.contains(".It Fl \\-user Ar user\nWhose.\nRequired.\n"))
        #expect(page.contains("Also takes \\-\\-json, as tool does."))
        #expect(!page.contains("secret\\-debug") && !page.contains(".Ss help"))
        #expect(page.contains(".Sh SEE ALSO\n.Xr other 1\n"))
    }

    @Test func escapesWhatRoffWouldRead() throws {
        var command = try Fixture.command
        command.abstract = "No dashes – or \"quotes\" In here"
        command.discussion = ".starts with a dot\nback\\slash and 'quote'"
        let page = ManualPage.render(
            DescribedProgram(program: Program(name: "tool", runsWithoutSubcommand: true), command: command), date: "d", seeAlso: [])
        #expect(page.contains(".Nd no dashes \\[u2013] or \\(dqquotes\\(dq \\&In here\n"))
        #expect(page.contains("\n\\&.starts with a dot\nback\\eslash and \\(aqquote\\(aq\n"))
    }
}

import CommandReference
import Foundation
import Testing
import WBKeydHarness

/// README.md against the programs built beside this test bundle (`.build/debug/`):
/// its command reference must be what they say of themselves, and every command line
/// it shows elsewhere must use only subcommands and options they have.
@Suite struct ReadmeReferenceTests {
    static let regenerate = "scripts/command-reference"

    static var readmePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
    }

    static func builtPrograms() async throws -> [DescribedProgram] {
        let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return try await HelpDump.loadOffPool(from: URL(fileURLWithPath: running).deletingLastPathComponent().path)
    }

    static func readme() throws -> (text: String, section: ReadmeSection) {
        let text = try String(contentsOfFile: readmePath, encoding: .utf8)
        return (text, try ReadmeSection(readme: text))
    }

    @Test func commandReferenceIsWhatTheProgramsSay() async throws {
        let programs = try await Self.builtPrograms()
        let section = try Self.readme().section
        let expected = ReadmeSection.body(for: MarkdownReference.render(programs))
        guard section.body != expected else { return }
        Issue.record("""
            README.md's command reference differs from the programs' --experimental-dump-help \
            (- README.md, + the programs). Regenerate it with `\(Self.regenerate)`:
            \(LineDiff.render(old: section.body, new: expected, firstLine: section.bodyFirstLine))
            """)
    }

    @Test func commandLinesShownElsewhereUseOnlyWhatTheProgramsHave() async throws {
        let programs = try await Self.builtPrograms()
        let (text, section) = try Self.readme()
        let shown = ShownCommands.find(in: text, programs: programs.map(\.name), skipping: section.generatedLines)
        // A README that shows none of them would pass for the wrong reason.
        for program in programs {
            #expect(shown.contains { $0.program == program.name }, "README.md shows no \(program.name) command line outside the reference")
        }
        for command in shown {
            let dump = try #require(programs.first { $0.name == command.program }).command
            for problem in CommandLineCheck.problems(command.arguments, program: dump) {
                Issue.record("README.md:\(command.line): `\(command.text.trimmingCharacters(in: .whitespaces))`: \(problem)")
            }
        }
    }

    @Test func manualPagesRenderWithoutWarnings() async throws {
        let programs = try await Self.builtPrograms()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("man-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for program in programs {
            let path = "\(directory)/\(program.name).1"
            try ManualPage.render(program, date: "November 26, 2026", seeAlso: programs.map(\.name))
                .write(toFile: path, atomically: true, encoding: .utf8)
            let lint = try await CommandRunner.run(try CommandRunner.onPath("groff"), ["-mdoc", "-Tutf8", "-ww", "-z", path])
            #expect(lint.exitStatus == 0 && lint.standardError.isEmpty, "groff on \(program.name).1: \(lint.standardError)")
            let page = try await CommandRunner.run(try CommandRunner.onPath("man"), ["-l", path], environment: ["MANPAGER": "cat", "MANWIDTH": "80", "LANG": "C.UTF-8"])
            #expect(page.exitStatus == 0, "man -l \(program.name).1: \(page.standardError)")
            // Every option as typed (ASCII hyphens, so a copied option works), no roff escape left over.
            let commands = [program.command] + program.command.documentedSubcommands
            let options = commands.flatMap(\.documentedArguments).flatMap(\.spellings)
            for expected in ["NAME", "SYNOPSIS", "DESCRIPTION"] + commands.map(\.commandName) + options {
                #expect(page.standardOutput.contains(expected), "man -l \(program.name).1 lacks \(expected)")
            }
            #expect(!page.standardOutput.contains("\\"), "\(program.name).1 shows a backslash")
        }
    }
}

import ArgumentParser
import CommandReference
import Foundation

/// Renders the README's command reference and the manual pages from the built
/// programs' `--experimental-dump-help`. Not installed: scripts/command-reference and
/// scripts/install run it from the build directory.
@main
struct CommandReferenceTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command-reference",
        abstract: "Writes README.md's command reference or the manual pages from the built programs' help.",
        subcommands: [ReadmeCommand.self, ManualCommand.self])
}

/// Where the programs are: `--binaries`, else beside this tool (the same build).
struct BinariesOption: ParsableArguments {
    @Option(help: ArgumentHelp("The directory holding wbkeyd, wbkeyctl and whitebit-sim (default: this tool's own).", valueName: "dir"))
    var binaries: String?

    func load() throws -> [DescribedProgram] {
        let directory = try binaries ?? URL(fileURLWithPath: FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent().path
        do {
            return try HelpDump.load(from: directory)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct ReadmeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readme",
        abstract: "Rewrites the part of README.md between the command-reference markers; exits 1 with --check if it differs.")

    @OptionGroup var binaries: BinariesOption

    @Option(help: ArgumentHelp("The README to update.", valueName: "path"))
    var readme = "README.md"

    @Flag(help: "Change nothing; print the difference and exit 1 if there is one.")
    var check = false

    func run() throws {
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        let section = try ReadmeSection(readme: text)
        let body = ReadmeSection.body(for: MarkdownReference.render(try binaries.load()))
        guard body != section.body else {
            print("\(readme): the command reference is up to date")
            return
        }
        if check {
            print(LineDiff.render(old: section.body, new: body, firstLine: section.bodyFirstLine))
            throw ExitCode(1)
        }
        try section.readme(withBody: body).write(toFile: readme, atomically: true, encoding: .utf8)
        print("\(readme): the command reference was rewritten")
    }
}

struct ManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "man",
        abstract: "Writes a section-1 manual page (mdoc) for each program into a directory.")

    @OptionGroup var binaries: BinariesOption

    @Option(help: ArgumentHelp("Where the pages go (created if missing).", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("The pages' date (default: today, or $SOURCE_DATE_EPOCH).", valueName: "text"))
    var date: String?

    func run() throws {
        let programs = try binaries.load()
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let names = programs.map(\.name)
        for program in programs {
            let path = "\(output)/\(program.name).1"
            let page = ManualPage.render(program, date: date ?? Self.today(), seeAlso: names)
            try page.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            print(path)
        }
    }

    /// Reproducible builds set SOURCE_DATE_EPOCH; the page then carries that date.
    static func today() -> String {
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMMM d, yyyy"
        return formatter.string(from: epoch.map(Date.init(timeIntervalSince1970:)) ?? Date())
    }
}

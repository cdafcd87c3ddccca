import CommandReference
import Testing

@Suite struct MarkdownReferenceTests {
    @Test func usageNamesRequiredOptionsAndPositionals() throws {
        let root = try Fixture.command
        #expect(MarkdownReference.usage(root, runsWithoutSubcommand: false) == "tool [<options>] <subcommand>")
        #expect(MarkdownReference.usage(root, runsWithoutSubcommand: true) == "tool [<options>] [<subcommand>]")
        let show = try #require(root.subcommand(named: "show"))
        #expect(MarkdownReference.usage(show, runsWithoutSubcommand: true) == "tool show [<options>] <user> [<reason> …]")
        let send = try #require(root.subcommand(named: "send"))
        #expect(MarkdownReference.usage(send, runsWithoutSubcommand: true) == "tool send --user <user> [<options>]")
    }

    @Test func rendersDefaultsRequirementsAndInheritedOptions() throws {
        let text = MarkdownReference.render([try Fixture.program])
        #expect(text.contains("| `--config <path>` | `/etc/tool.toml` | The configuration file. |"))
        #expect(text.contains("| `<user>` | required | The user. |"))
        #expect(text.contains("| `--tag <tag> …` |  | A tag. |"))
        #expect(text.contains("Also takes `--json`, as `tool` does."))
        #expect(text.contains("Subcommands: `show`, `send`."))
    }

    @Test func leavesOutHelpHiddenArgumentsAndArgumentParsersHelpCommand() throws {
        let text = MarkdownReference.render([try Fixture.program])
        #expect(!text.contains("--help |"))
        #expect(!text.contains("secret-debug"))
        #expect(!text.contains("tool help"))
        #expect(!text.contains("Show subcommand help information"))
    }

    @Test func escapesWhatMarkdownWouldRead() throws {
        let text = MarkdownReference.render([try Fixture.program])
        #expect(text.contains("Does tool things | with a pipe and &lt;brackets>."))
    }

    @Test func escapesPipesInsideTableCells() throws {
        var command = try Fixture.command
        command.arguments?[0].abstract = "Either `a|b` or c|d."
        let text = MarkdownReference.render([DescribedProgram(program: Program(name: "tool", runsWithoutSubcommand: true), command: command)])
        #expect(text.contains("| Either `a\\|b` or c\\|d. |"))
    }
}

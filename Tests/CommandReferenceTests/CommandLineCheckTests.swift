import CommandReference
import Testing

@Suite struct CommandLineCheckTests {
    func problems(_ line: String) throws -> [String] {
        CommandLineCheck.problems(line.split(separator: " ").map(String.init), program: try Fixture.command)
    }

    @Test func acceptsWhatTheProgramHas() throws {
        #expect(try problems("") == [])
        #expect(try problems("--config /x show u-1") == [])
        #expect(try problems("--config=/x --json show --json u-1 some reason") == [])
        #expect(try problems("show u-1 --config /x") == [], "a parent's option after the subcommand")
        #expect(try problems("send --user --json --tag a --tag b") == [], "an option's value is not judged")
        #expect(try problems("send --user u-1 --secret-debug") == [], "hidden options exist too")
        #expect(try problems("help show") == [])
        #expect(try problems("-h") == [])
        #expect(try problems("show -- --not-an-option") == [])
    }

    @Test func namesAnOptionTheProgramLacks() throws {
        #expect(try problems("--verbose show u-1") == ["`tool` has no option --verbose"])
        #expect(try problems("show u-1 --tag x") == ["`tool show` has no option --tag"])
        #expect(try problems("send --user u-1 --colour=red") == ["`tool send` has no option --colour"])
        #expect(try problems("show -x u-1") == ["`tool show` has no option -x"])
    }

    @Test func namesASubcommandTheProgramLacks() throws {
        #expect(try problems("--json list") == ["`tool` has no subcommand `list`"])
        #expect(try problems("--config list show") == [], "`list` is --config's value")
    }
}

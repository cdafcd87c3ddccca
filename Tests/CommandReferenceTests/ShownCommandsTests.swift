@testable import CommandReference
import Testing

@Suite struct ShownCommandsTests {
    static let programs = ["wbkeyd", "wbkeyctl", "whitebit-sim"]

    func shown(_ markdown: String, skipping: ClosedRange<Int>? = nil) -> [String] {
        ShownCommands.find(in: markdown, programs: Self.programs, skipping: skipping)
            .map { "\($0.line) \($0.program) \($0.arguments.joined(separator: " "))" }
    }

    @Test func findsCommandsInCodeBlocksWhereverTheyStand() {
        let markdown = """
            Text.

            ```sh
            wbkeyctl --json grants active   # a comment --bogus
            printf %s "$CODE" | wbkeyctl submit --user u-1 --code-file - --state "$STATE"
            CREDENTIALS_DIRECTORY=/etc/wbkeyd wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml
            exec 3< <(.build/debug/whitebit-sim --port 0)    # logs go to stderr
            sudo -E wbkeyd audit-verify --store /x 2>/dev/null && echo ok
            wbkeyctl submit --user u-1 \\
              --reason "two words"
            ```
            """
        #expect(shown(markdown) == [
            "4 wbkeyctl --json grants active",
            "5 wbkeyctl submit --user u-1 --code-file - --state $STATE",
            "6 wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml",
            "7 whitebit-sim --port 0",
            "8 wbkeyd audit-verify --store /x",
            "9 wbkeyctl submit --user u-1 --reason two words",
        ])
    }

    @Test func ignoresTheProgramsAsArgumentsOrPartsOfNames() {
        let markdown = """
            ```
            journalctl -u wbkeyd WBKEYD_USER=u-1001
            systemctl enable --now wbkeyd.socket wbkeyd.service
            .build/release/wbkeyd-bench startup-scale
            curl "$BASE/auth/login?clientId=wbkeyd-demo"
            partner frontend                 wbkeyd
            ```
            """
        #expect(shown(markdown).isEmpty)
    }

    @Test func findsInlineCodeAcrossALineBreak() {
        let markdown = """
            Check a configuration before a reload: `wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml`
            (exit 0); and `wbkeyctl submit
            --state` too; `--code-file` alone is not a command.
            """
        #expect(shown(markdown) == [
            "1 wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml",
            "2 wbkeyctl submit --state",
        ])
    }

    @Test func skipsTheGivenLines() {
        let markdown = "`wbkeyd --a`\n\n`wbkeyd --b`\n\n`wbkeyd --c`"
        #expect(shown(markdown, skipping: 3...3) == ["1 wbkeyd --a", "5 wbkeyd --c"])
    }

    @Test func splitsLikeAShell() {
        #expect(ShellWords.commands(#"a 'b c' "d \"e\"" f\ g; h|i && j $(k l) >out m"#) == [
            ["a", "b c", #"d "e""#, "f g"], ["h"], ["i"], ["j"], ["k", "l"], ["m"],
        ])
    }
}

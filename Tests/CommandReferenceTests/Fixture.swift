import CommandReference
import Foundation

/// A small program's dump, in ArgumentParser's shape: an option with a default, a flag,
/// a subcommand that repeats the parent's flag and takes a positional, one with a
/// required option, and ArgumentParser's own `help`.
enum Fixture {
    static let json = #"""
        {"serializationVersion": 0, "command": {
          "commandName": "tool", "abstract": "Does tool things | with a pipe and <brackets>.",
          "discussion": "First paragraph.\n\nEXIT STATUS\n  0  fine\n  1  not fine",
          "arguments": [
            {"kind": "option", "names": [{"kind": "long", "name": "config"}], "preferredName": {"kind": "long", "name": "config"},
             "valueName": "path", "defaultValue": "/etc/tool.toml", "isOptional": true, "isRepeating": false,
             "parsingStrategy": "default", "shouldDisplay": true, "abstract": "The configuration file."},
            {"kind": "flag", "names": [{"kind": "long", "name": "json"}], "preferredName": {"kind": "long", "name": "json"},
             "isOptional": true, "isRepeating": false, "parsingStrategy": "default", "shouldDisplay": true, "abstract": "Print JSON."},
            {"kind": "flag", "names": [{"kind": "short", "name": "h"}, {"kind": "long", "name": "help"}],
             "isOptional": true, "isRepeating": false, "parsingStrategy": "default", "shouldDisplay": true, "abstract": "Show help information."}
          ],
          "subcommands": [
            {"commandName": "show", "superCommands": ["tool"], "abstract": "Shows one user.",
             "discussion": "Examples:\n  tool show u-1\n  tool show --json u-1",
             "arguments": [
              {"kind": "flag", "names": [{"kind": "long", "name": "json"}], "preferredName": {"kind": "long", "name": "json"},
               "isOptional": true, "isRepeating": false, "parsingStrategy": "default", "shouldDisplay": true, "abstract": "Print JSON."},
              {"kind": "positional", "valueName": "user", "isOptional": false, "isRepeating": false,
               "parsingStrategy": "default", "shouldDisplay": true, "abstract": "The user."},
              {"kind": "positional", "valueName": "reason", "isOptional": true, "isRepeating": true,
               "parsingStrategy": "default", "shouldDisplay": true, "abstract": "Why."}
             ]},
            {"commandName": "send", "superCommands": ["tool"], "abstract": "Sends a file.",
             "arguments": [
              {"kind": "option", "names": [{"kind": "long", "name": "user"}], "preferredName": {"kind": "long", "name": "user"},
               "valueName": "user", "isOptional": false, "isRepeating": false, "parsingStrategy": "unconditional",
               "shouldDisplay": true, "abstract": "Whose."},
              {"kind": "option", "names": [{"kind": "long", "name": "tag"}], "preferredName": {"kind": "long", "name": "tag"},
               "valueName": "tag", "isOptional": true, "isRepeating": true, "parsingStrategy": "default",
               "shouldDisplay": true, "abstract": "A tag."},
              {"kind": "flag", "names": [{"kind": "long", "name": "secret-debug"}], "isOptional": true, "isRepeating": false,
               "parsingStrategy": "default", "shouldDisplay": false, "abstract": "Hidden."}
             ]},
            {"commandName": "help", "superCommands": ["tool"], "abstract": "Show subcommand help information.",
             "arguments": [{"kind": "positional", "valueName": "subcommands", "isOptional": true, "isRepeating": true,
               "parsingStrategy": "default", "shouldDisplay": true}]}
          ]}}
        """#

    static var command: CommandInfo {
        get throws { try CommandInfo.decodeDump(Data(json.utf8)) }
    }

    static var program: DescribedProgram {
        get throws { DescribedProgram(program: Program(name: "tool", runsWithoutSubcommand: false), command: try command) }
    }
}

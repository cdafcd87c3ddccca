import DaemonConfig
import Testing

@Suite struct ConfigDurationTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("0ms", Duration.zero),
        ("30s", Duration.seconds(30)),
        ("10m", Duration.seconds(600)),
        ("4h", Duration.seconds(14_400)),
        ("400d", Duration.seconds(400 * 86_400)),
        ("007s", Duration.seconds(7)),
    ])
    func parsesOneNumberAndOneUnit(text: String, expected: Duration) throws {
        #expect(try ConfigDuration.parse(text) == expected)
    }

    @Test(arguments: [
        ("1.5s", ConfigDuration.ParseError.fractional),
        ("-1s", .negative),
        ("+1s", .negative),
        ("10", .missingUnit),
        ("1h30m", .compound),
        ("", .empty),
        ("s", .missingNumber),
        ("10S", .unknownUnit("S")),
        ("10sec", .unknownUnit("sec")),
        ("10 s", .unknownUnit(" s")),
        (" 10s", .malformed),
        ("10s ", .unknownUnit("s ")),
        ("1.5", .fractional),
        ("99999999999999999999d", .tooLarge),
        ("999999999999999999d", .tooLarge),
    ])
    func refusesWithAReason(text: String, expected: ConfigDuration.ParseError) {
        #expect(throws: expected) { try ConfigDuration.parse(text) }
    }

    @Test func reasonsTellTheOperatorWhatToWrite() {
        #expect(ConfigDuration.ParseError.fractional.description.contains("1500ms"))
        #expect(ConfigDuration.ParseError.compound.description.contains("90m"))
        #expect(ConfigDuration.ParseError.missingUnit.description.contains("unit"))
        #expect(ConfigDuration.ParseError.negative.description.contains("negative"))
    }

    @Test(arguments: [
        (Duration.milliseconds(500), "500ms"),
        (.milliseconds(1_500), "1500ms"),
        (.seconds(30), "30s"),
        (.seconds(90), "90s"),
        (.seconds(600), "10m"),
        (.seconds(5_400), "90m"),
        (.seconds(14_400), "4h"),
        (.seconds(400 * 86_400), "400d"),
        (.zero, "0s"),
    ])
    func formatsInTheLargestExactUnit(duration: Duration, expected: String) throws {
        #expect(ConfigDuration.format(duration) == expected)
        #expect(try ConfigDuration.parse(expected) == duration)
    }

    @Test func formatFallsBackForWhatTheSyntaxCannotSay() {
        #expect(ConfigDuration.format(.microseconds(1_500)) == "\(Duration.microseconds(1_500))")
        #expect(ConfigDuration.format(.seconds(-1)) == "\(Duration.seconds(-1))")
    }
}

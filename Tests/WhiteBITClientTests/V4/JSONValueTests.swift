import Testing
@testable import WhiteBITClient

/// The strict reader and the canonical writer the signer and the V4 answers rely on.
@Suite struct JSONValueTests {
    private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONValue.parsing(Array(text.utf8))
    }

    @Test func numbersKeepTheirLiteralText() throws {
        let value = try parse(#"{"id": 123456789012345678901, "b": "0.10000000", "n": -0.10, "e": 2.5e-3}"#)
        #expect(value["id"] == .number("123456789012345678901"))
        #expect(value["n"] == .number("-0.10"))
        #expect(value.compactText == #"{"b":"0.10000000","e":2.5e-3,"id":123456789012345678901,"n":-0.10}"#)
    }

    @Test func theWriterSortsByCodePointAndEscapesOnlyWhatJSONNeeds() throws {
        let value = try parse(#"{"é":1,"z":2,"Z":3,"e":4,"𝄞":5,"\u00e9x":6,"s":"a\"b\\c\/d\u0007\n\u2028"}"#)
        #expect(value.compactText == "{\"Z\":3,\"e\":4,\"s\":\"a\\\"b\\\\c/d\\u0007\\n\u{2028}\",\"z\":2,\"é\":1,\"éx\":6,\"𝄞\":5}")
        #expect(try parse(value.compactText) == value)
    }

    @Test(arguments: [
        ("", "unexpected end of text at byte 0"),
        ("{", "object key is not a string at byte 1"),
        (#"{"a" 1}"#, "expected ':' after an object key at byte 5"),
        ("[1,]", "unexpected character at byte 3"),
        ("01", "text after the document at byte 1"),
        ("1.", "number without digits after '.' at byte 2"),
        ("-", "number without digits at byte 1"),
        ("1e", "number without digits in its exponent at byte 2"),
        ("tru", "unknown literal at byte 0"),
        ("\"a\u{01}\"", "control character in a string at byte 2"),
        (#""\x""#, "unknown escape at byte 3"),
        (#""\u12g4""#, "\\u escape without four hex digits at byte 3"),
        (#""\udc00""#, "unpaired surrogate escape at byte 7"),
        (#"{"a":1,"a":2}"#, "an object names the same key twice at byte 7"),
    ])
    func malformedTextNamesTheProblemAndWhere(text: String, reason: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
        do {
            _ = try parse(text)
        } catch {
            #expect(error.description == reason)
        }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil)
        let deep = String(repeating: "[", count: JSONReader.maximumDepth + 1) + String(repeating: "]", count: JSONReader.maximumDepth + 1)
        #expect(JSONValue.parse(Array(deep.utf8)) == nil)
        let fine = String(repeating: "[", count: JSONReader.maximumDepth) + String(repeating: "]", count: JSONReader.maximumDepth)
        #expect(JSONValue.parse(Array(fine.utf8)) != nil)
    }

    @Test func answersMayRepeatAKeyTheLastWins() {
        #expect(JSONValue.parse(Array(#"{"a":1,"a":2}"#.utf8)) == .object(["a": .number("2")]))
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try parse(#""\ud834\udd1e""#) == .string("𝄞"))
    }
}

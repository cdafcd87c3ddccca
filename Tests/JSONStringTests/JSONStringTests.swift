import Foundation
import JSONString
import Testing

@Suite struct JSONStringTests {
    @Test(arguments: [
        ("plain", "\"plain\""), ("a\"b", "\"a\\\"b\""), ("a\\b", "\"a\\\\b\""), ("\n\r\t", "\"\\n\\r\\t\""),
        ("\u{08}\u{0C}", "\"\\b\\f\""), ("\u{01}\u{1F}\u{7F}", "\"\\u0001\\u001f\\u007f\""), ("é ü 💡", "\"é ü 💡\""), ("", "\"\""),
    ])
    func escapes(text: String, expected: String) {
        #expect(JSONString.quoted(text) == expected)
    }

    @Test func roundTripsThroughAJSONParser() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0...40, using: &rng)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x2FFF, using: &rng))
            }
            let text = String(String.UnicodeScalarView(scalars))
            let decoded = try JSONSerialization.jsonObject(with: Data(JSONString.quoted(text).utf8), options: .fragmentsAllowed)
            #expect(decoded as? String == text)
        }
    }
}

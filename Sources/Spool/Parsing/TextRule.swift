/// Length and alphabet of one string field, as docs/design.md §4 states them.
struct TextRule: Sendable {
    enum Characters: Sendable, CustomStringConvertible {
        case userReference
        case printableASCII
        case verifier

        var description: String {
            switch self {
            case .userReference: "A-Z a-z 0-9 . _ : @ -"
            case .printableASCII: "printable ASCII"
            case .verifier: "A-Z a-z 0-9 - . _ ~"
            }
        }

        func allows(_ scalar: Unicode.Scalar) -> Bool {
            let value = scalar.value
            let alphanumeric =
                (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || (0x30...0x39).contains(value)
            switch self {
            case .userReference: return alphanumeric || "._:@-".unicodeScalars.contains(scalar)
            case .printableASCII: return (0x20...0x7E).contains(value)
            case .verifier: return alphanumeric || "-._~".unicodeScalars.contains(scalar)
            }
        }
    }

    let field: SpoolField
    let length: ClosedRange<Int>
    let characters: Characters

    static let user = TextRule(field: .user, length: 1...128, characters: .userReference)
    static let code = TextRule(field: .code, length: 1...2048, characters: .printableASCII)
    static let codeVerifier = TextRule(field: .codeVerifier, length: 43...128, characters: .verifier)
    static let state = TextRule(field: .state, length: 1...512, characters: .printableASCII)
    static let apiKey = TextRule(field: .apiKey, length: 1...256, characters: .printableASCII)
    static let revocationReason = TextRule(field: .reason, length: 0...512, characters: .printableASCII)

    /// Lengths count Unicode scalars, never `Character`s: grapheme clustering would
    /// let a combining mark hide inside an allowed letter.
    func problem(with value: String) -> SpoolRejection.Problem? {
        let scalars = Array(value.unicodeScalars)
        if scalars.isEmpty && length.lowerBound > 0 { return .empty(field) }
        if scalars.count > length.upperBound {
            return .tooLong(field, length: scalars.count, maximum: length.upperBound)
        }
        if scalars.count < length.lowerBound {
            return .tooShort(field, length: scalars.count, minimum: length.lowerBound)
        }
        if let position = scalars.firstIndex(where: { !characters.allows($0) }) {
            return .badCharacter(field, position: position + 1, scalar: field.isSecret ? nil : scalars[position])
        }
        return nil
    }
}

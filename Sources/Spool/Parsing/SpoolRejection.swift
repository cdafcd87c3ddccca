/// Why the content of a spool file is not a valid request. `reason` is one line that
/// names the field and what is wrong with it; it never repeats a code, verifier or
/// state (not even one character of one), and names a user only through `user`,
/// which is set only when the file's user reference was itself valid.
public struct SpoolRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case emptyFile
        case whitespaceOnly
        case byteOrderMark
        case nulByte(offset: Int)
        case invalidUTF8(offset: Int)
        case malformedJSON(offset: Int, problem: String)
        case notAnObject(JSONKind)
        case duplicateField(SpoolField)
        case unknownType
        case missing(SpoolField)
        case wrongType(SpoolField, got: JSONKind)
        case empty(SpoolField)
        case tooLong(SpoolField, length: Int, maximum: Int)
        case tooShort(SpoolField, length: Int, minimum: Int)
        /// `scalar` is left out for secret fields.
        case badCharacter(SpoolField, position: Int, scalar: Unicode.Scalar?)
        case notRFC3339
        /// `fromFileTime`: there was no `received_at`, so the file's mtime stood in.
        case expired(age: Duration, limit: Duration, fromFileTime: Bool)
        case inFuture(ahead: Duration, allowed: Duration, fromFileTime: Bool)
        case verifierOrStateRequired
    }

    public let problem: Problem
    /// The file's user reference, when it was valid: for the audit row and the log.
    public let user: String?

    public init(_ problem: Problem, user: String? = nil) {
        self.problem = problem
        self.user = user
    }

    public var description: String { reason }

    public var reason: String {
        switch problem {
        case .emptyFile: "file is empty"
        case .whitespaceOnly: "file holds only whitespace, no JSON object"
        case .byteOrderMark: "file starts with a UTF-8 byte order mark; write the JSON object without one"
        case .nulByte(let offset): "file contains a NUL byte at offset \(offset)"
        case .invalidUTF8(let offset): "file is not valid UTF-8 (bad byte at offset \(offset))"
        case .malformedJSON(let offset, let problem): "invalid JSON at offset \(offset): \(problem)"
        case .notAnObject(let kind): "top level must be a JSON object, got \(kind.rawValue)"
        case .duplicateField(let field): "field \(field.rawValue) appears more than once"
        case .unknownType: "type must be \"authorization\" or \"revocation\""
        case .missing(let field): "\(field.rawValue) is missing"
        case .wrongType(let field, let kind): "\(field.rawValue) must be a string, got \(kind.rawValue)"
        case .empty(let field): "\(field.rawValue) is empty"
        case .tooLong(let field, let length, let maximum):
            "\(field.rawValue) is \(length) characters long, at most \(maximum) allowed"
        case .tooShort(let field, let length, let minimum):
            "\(field.rawValue) is \(length) characters long, at least \(minimum) required"
        case .badCharacter(let field, let position, let scalar):
            "\(field.rawValue) has a character outside \(Self.allowedCharacters(field)) at position \(position)"
                + (scalar.map { " (U+\(String($0.value, radix: 16, uppercase: true).leftPadded(to: 4)))" } ?? "")
        case .notRFC3339: "received_at is not an RFC 3339 date-time such as 2026-11-26T10:00:00Z"
        case .expired(let age, let limit, let fromFileTime):
            "\(Self.subject(fromFileTime)) \(Self.seconds(age)) old, more than max_code_age \(Self.seconds(limit)): "
                + "the code has expired"
        case .inFuture(let ahead, let allowed, let fromFileTime):
            "\(Self.subject(fromFileTime)) \(Self.seconds(ahead)) in the future, more than the "
                + "\(Self.seconds(allowed)) allowed for clock skew"
        case .verifierOrStateRequired: "code_verifier is missing and there is no state to look it up by"
        }
    }

    private static func allowedCharacters(_ field: SpoolField) -> String {
        switch field {
        case .user: TextRule.user.characters.description
        case .codeVerifier: TextRule.codeVerifier.characters.description
        default: TextRule.code.characters.description
        }
    }

    private static func subject(_ fromFileTime: Bool) -> String {
        fromFileTime ? "received_at is missing and the file's mtime is" : "received_at is"
    }

    private static func seconds(_ duration: Duration) -> String {
        "\(duration.components.seconds)s"
    }
}

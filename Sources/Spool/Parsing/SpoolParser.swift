import Foundation
import Sensitive

/// Turns the bytes of a spool file into a request, or says precisely why not.
/// Pure: no clock, no file system; the caller passes the file's mtime and `now`.
public enum SpoolParser {
    /// How far in the future `received_at` may lie, for writers whose clock runs ahead.
    public static let allowedClockSkew = Duration.seconds(300)

    public static func parse(bytes: [UInt8], fileModified: Date, now: Date, maxCodeAge: Duration)
        -> Result<SpoolItem, SpoolRejection>
    {
        do {
            let decoded = try decode(bytes, fileModified: fileModified)
            if case .authorization(let request) = decoded.item {
                try checkAge(request, fromFileTime: decoded.receivedAtFromFile, now: now, maxCodeAge: maxCodeAge)
            }
            return .success(decoded.item)
        } catch {
            return .failure(error)
        }
    }

    /// Everything but the age check, which needs a clock and the configured limit.
    static func decode(_ bytes: [UInt8], fileModified: Date) throws(SpoolRejection)
        -> (item: SpoolItem, receivedAtFromFile: Bool)
    {
        let object = try topLevelObject(bytes)
        let type: String
        let user: String
        do throws(SpoolRejection.Problem) {
            type = try object.string(.type) ?? "authorization"
            user = try object.required(.user)
            if let problem = TextRule.user.problem(with: user) { throw problem }
        } catch {
            throw SpoolRejection(error)
        }
        do throws(SpoolRejection.Problem) {
            switch type {
            case "authorization":
                return try decodeAuthorization(object, user: user, fileModified: fileModified)
            case "revocation":
                var reason = try object.string(.reason) ?? ""
                if let problem = TextRule.revocationReason.problem(with: reason) { throw problem }
                if reason.isEmpty { reason = RevocationRequest.defaultReason }
                return (.revocation(RevocationRequest(user: user, reason: reason)), false)
            default:
                throw SpoolRejection.Problem.unknownType
            }
        } catch {
            // From here on the user reference is known to be valid, so it may be named.
            throw SpoolRejection(error, user: user)
        }
    }

    private static func decodeAuthorization(_ object: SpoolObject, user: String, fileModified: Date)
        throws(SpoolRejection.Problem) -> (item: SpoolItem, receivedAtFromFile: Bool)
    {
        let code = try object.required(.code)
        if let problem = TextRule.code.problem(with: code) { throw problem }
        let verifier = try object.string(.codeVerifier)
        if let verifier, let problem = TextRule.codeVerifier.problem(with: verifier) { throw problem }
        let state = try object.string(.state)
        if let state, let problem = TextRule.state.problem(with: state) { throw problem }
        if verifier == nil && state == nil { throw .verifierOrStateRequired }
        var receivedAt = fileModified
        let receivedAtText = try object.string(.receivedAt)
        if let receivedAtText {
            guard let parsed = RFC3339.parse(receivedAtText) else { throw .notRFC3339 }
            receivedAt = parsed
        }
        let apiKey = try object.string(.apiKey)
        if let apiKey, let problem = TextRule.apiKey.problem(with: apiKey) { throw problem }
        let request = AuthorizationRequest(
            user: user, code: Sensitive(code), codeVerifier: verifier.map(Sensitive.init),
            state: state.map(Sensitive.init), receivedAt: receivedAt, apiKey: apiKey)
        return (.authorization(request), receivedAtText == nil)
    }

    private static func checkAge(
        _ request: AuthorizationRequest, fromFileTime: Bool, now: Date, maxCodeAge: Duration
    ) throws(SpoolRejection) {
        let age = Duration.seconds(now.timeIntervalSince(request.receivedAt))
        if age > maxCodeAge {
            throw SpoolRejection(
                .expired(age: age, limit: maxCodeAge, fromFileTime: fromFileTime), user: request.user)
        }
        if age < .zero - allowedClockSkew {
            throw SpoolRejection(
                .inFuture(ahead: .zero - age, allowed: allowedClockSkew, fromFileTime: fromFileTime),
                user: request.user)
        }
    }

    /// The checks that come before JSON, each with its own reason, then the JSON.
    private static func topLevelObject(_ bytes: [UInt8]) throws(SpoolRejection) -> SpoolObject {
        if bytes.isEmpty { throw SpoolRejection(.emptyFile) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw SpoolRejection(.byteOrderMark) }
        if let offset = bytes.firstIndex(of: 0) { throw SpoolRejection(.nulByte(offset: offset)) }
        if let offset = firstInvalidUTF8Offset(bytes) { throw SpoolRejection(.invalidUTF8(offset: offset)) }
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { throw SpoolRejection(.whitespaceOnly) }
        let value: JSONValue
        do throws(StrictJSONParser.Failure) {
            value = try StrictJSONParser.parse(bytes)
        } catch {
            switch error {
            case .syntax(let offset, let problem):
                throw SpoolRejection(.malformedJSON(offset: offset, problem: problem))
            case .duplicateKey(let key, let depth, let offset):
                if depth == 1, let field = SpoolField(rawValue: key) { throw SpoolRejection(.duplicateField(field)) }
                throw SpoolRejection(.malformedJSON(offset: offset, problem: "a key appears twice in one object"))
            }
        }
        guard case .object(let members) = value else { throw SpoolRejection(.notAnObject(value.kind)) }
        return SpoolObject(members: members)
    }

    /// The offset of the first byte that does not belong to valid UTF-8 (overlong
    /// forms, surrogates and values past U+10FFFF included), or nil.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// The members of the top-level object, looked up by field name.
struct SpoolObject {
    let members: [JSONMember]

    /// A string field's value; nil when the field is absent or null (every optional
    /// field may be written as null).
    func string(_ field: SpoolField) throws(SpoolRejection.Problem) -> String? {
        guard let member = members.first(where: { $0.key.utf8.elementsEqual(field.rawValue.utf8) }) else {
            return nil
        }
        switch member.value {
        case .string(let value): return value
        case .null: return nil
        default: throw .wrongType(field, got: member.value.kind)
        }
    }

    func required(_ field: SpoolField) throws(SpoolRejection.Problem) -> String {
        guard let member = members.first(where: { $0.key.utf8.elementsEqual(field.rawValue.utf8) }) else {
            throw .missing(field)
        }
        guard case .string(let value) = member.value else { throw .wrongType(field, got: member.value.kind) }
        return value
    }
}

extension SpoolRejection.Problem: Error {}

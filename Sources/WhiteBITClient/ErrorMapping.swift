import Sensitive

/// Turns a non-2xx answer into a `WhiteBITError`. Pure, so every status and body shape is
/// unit-tested without a server.
enum ErrorMapping {
    static func error(
        endpoint: Endpoint, externalID: String?, status: Int, body: [UInt8], secrets: [Sensitive]
    ) -> WhiteBITError {
        let document = JSONValue.parse(body)
        let messages = ResponseText.messages(in: document).map { ResponseText.scrub($0, removing: secrets) }
        let code = ResponseText.code(in: document)
        // The auth messages belong to the signature check; the Bearer twins have none.
        let kind = (endpoint.isSignedV4 ? V4ErrorMapping.kind(status: status, messages: messages, code: code) : nil)
            ?? kind(endpoint: endpoint, status: status, document: document, secrets: secrets)
        return WhiteBITError(
            endpoint: endpoint, externalID: externalID, kind: kind, messages: messages, status: status,
            code: endpoint.isV4 ? code : nil
        )
    }

    private static func kind(
        endpoint: Endpoint, status: Int, document: JSONValue?, secrets: [Sensitive]
    ) -> WhiteBITError.Kind {
        switch status {
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 409 where endpoint == .secret: .secretAlreadyRetrieved
        case _ where status == 422 || (endpoint.isV4 && document?["errors"]?.objectValue != nil):
            .validation(fields: ResponseText.fieldNames(in: document).map { ResponseText.scrub($0, removing: secrets) })
        case 423: .locked
        case 429: .rateLimited
        case 500...599: .server(status: status)
        default: .rejected(status: status)
        }
    }
}

/// The private V4 errors of docs/whitebit-api.md §5.2 and §5.3. WhiteBIT documents them
/// by message, not by status (bodies have come as `{"message":[["…"]],"success":false}`
/// and as `{"code":9,"message":"Invalid payload."}`), so the message decides, whatever
/// the status; a 429 stays a rate limit even if it says "Too many requests.".
enum V4ErrorMapping {
    static func kind(status: Int, messages: [String], code: Int?) -> WhiteBITError.Kind? {
        if status == 429 { return .rateLimited }
        for message in messages {
            if let kind = kind(of: message) { return kind }
        }
        if code == 9 { return .invalidPayload }
        return nil
    }

    private static func kind(of message: String) -> WhiteBITError.Kind? {
        let text = message.lowercased()
        if text.hasPrefix("unauthorized request") { return .signatureRejected }
        if text.contains("enable your key") || text.hasPrefix("this action is unauthorized") { return .keyDisabled }
        // "don't" may come with a typographic apostrophe.
        if text.contains("permission to use this endpoint") { return .endpointNotPermitted }
        if text.hasPrefix("too many requests") { return .nonceNotIncreasing }
        if text.hasPrefix("your nonce is more than") || text.hasPrefix("invalid noncewindow") {
            return .nonceOutsideWindow
        }
        let payloadProblems = ["invalid payload", "payload not provided", "request not provided", "nonce not provided"]
        if payloadProblems.contains(where: { text.hasPrefix($0) }) { return .invalidPayload }
        return nil
    }
}

/// The few pieces of WhiteBIT's error bodies worth keeping, made safe to print.
enum ResponseText {
    static let maximumMessageLength = 160
    static let maximumMessages = 5

    /// Printable ASCII only (anything else becomes `?`, so no escape sequence or line break
    /// reaches a terminal or a log line), at most `maximumMessageLength` characters.
    static func sanitize(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if out.unicodeScalars.count >= maximumMessageLength {
                out += "…"
                break
            }
            out.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        return out
    }

    /// A message that quotes something the request carried (a code echoed in "invalid code
    /// X", say) loses it.
    static func scrub(_ text: String, removing secrets: [Sensitive]) -> String {
        var text = text
        for secret in secrets where secret.revealed.count >= 4 {
            text = text.replacingEvery(secret.revealed, with: "<redacted>")
        }
        return text
    }

    /// Messages from the documented shape `{"data":{"message":[…]}}` (or a single string
    /// there) and the V4 one, a top-level `message` string. Nothing else in a body is read:
    /// any other member could hold anything, a token included.
    static func messages(in document: JSONValue?) -> [String] {
        guard let document else { return [] }
        let found = strings(document["data"]?["message"]) + strings(document["message"])
        return Array(found.filter { !$0.isEmpty }.prefix(maximumMessages))
    }

    /// V4's numeric `code`, when it is an integer.
    static func code(in document: JSONValue?) -> Int? {
        guard case .number(let text) = document?["code"] else { return nil }
        return Int(text)
    }

    /// The fields a 422 names: `{"errors":{FIELD:[…]}}`, sorted for stable output.
    static func fieldNames(in document: JSONValue?) -> [String] {
        guard let errors = document?["errors"]?.objectValue else { return [] }
        return Array(errors.keys.sorted().prefix(maximumMessages))
    }

    /// A string, a list of strings, or (the older V4 auth errors, `{"message":[["Too many
    /// requests."]]}`) a list of lists of strings.
    private static func strings(_ value: JSONValue?, depth: Int = 0) -> [String] {
        switch value {
        case .some(.string(let text)): [text]
        case .some(.array(let elements)) where depth < 2: elements.flatMap { strings($0, depth: depth + 1) }
        default: []
        }
    }
}

extension String {
    func replacingEvery(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        out += rest
        return out
    }
}

/// An HTTP answer described, not sent: the model decides status, body and headers; the
/// HTTP layer only writes them. Tests compare these directly with the documented shapes.
public struct SimAnswer: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case json(JSONValue)
        case html(String)
        case empty
    }

    public var status: Int
    public var body: Body
    /// Extra headers such as `Cache-Control` or `Location`.
    public var headers: [String: String]

    public init(status: Int, body: Body, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    public static func json(_ status: Int, _ value: JSONValue, headers: [String: String] = [:]) -> SimAnswer {
        SimAnswer(status: status, body: .json(value), headers: headers)
    }

    /// `{"data":{"message":[message]}}`, WhiteBIT's OAuth error shape.
    public static func message(_ status: Int, _ message: String) -> SimAnswer {
        .json(status, ["data": ["message": [.string(message)]]])
    }

    /// `{"errors":{FIELD:[RULE]},"notification":null}`, WhiteBIT's validation shape.
    public static func validation(_ errors: [String: String]) -> SimAnswer {
        .json(422, ["errors": .object(errors.mapValues { [.string($0)] }), "notification": .null])
    }

    /// `{"error": message}`, the admin API's error shape.
    public static func adminError(_ message: String) -> SimAnswer {
        .json(400, ["error": .string(message)])
    }

    public var json: JSONValue? {
        if case .json(let value) = body { return value }
        return nil
    }

    /// The first `data.message` entry, when the body has that shape.
    public var message: String? {
        json?["data"]?["message"]?.arrayValue?.first?.stringValue
    }

    static let unauthorized = message(401, "Unauthorized.")
    static let forbidden = message(403, "Forbidden.")
    static let keyNotFound = message(404, "Key not found.")
    static let secretAlreadyRetrieved = message(409, "Secret already retrieved.")
    static let temporaryLock = message(423, "Temporary lock, retry shortly.")
    static let invalidClient = message(401, "Invalid request")

    /// A plausible body for an injected status fault.
    static func fault(status: Int) -> SimAnswer {
        let text: String
        switch status {
        case 401: text = "Unauthorized."
        case 403: text = "Forbidden."
        case 404: text = "Key not found."
        case 409: text = "Secret already retrieved."
        case 423: text = "Temporary lock, retry shortly."
        case 429: text = "Too many requests."
        case 502: text = "Bad gateway."
        case 503: text = "Service unavailable."
        case 504: text = "Gateway timeout."
        case 500...599: text = "Server error."
        default: text = "Simulated fault."
        }
        return message(status, text)
    }
}

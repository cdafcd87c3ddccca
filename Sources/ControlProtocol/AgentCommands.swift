import Foundation

/// The words of the key-agent commands (docs/design.md §12): which balance, which history,
/// and the fields a history may be narrowed by, as docs/whitebit-api.md §4 lists them.
public enum BalanceAccount: String, Sendable, Equatable, CaseIterable {
    case main
    case spot
}

public enum HistoryKind: String, Sendable, Equatable, CaseIterable {
    case transactions
    case converts
    case orders
    case deals

    /// The endpoint's own fields (docs/whitebit-api.md §4); anything else is refused here,
    /// before WhiteBIT is asked.
    public var fields: [String] {
        switch self {
        case .transactions: ["transactionMethod", "ticker", "address", "memo", "addresses", "unique_id", "limit", "offset", "status"]
        case .converts: ["fromTicker", "toTicker", "from", "to", "quoteId", "limit", "offset"]
        case .orders: ["market", "clientOrderId", "orderId", "status", "startDate", "endDate", "offset", "limit"]
        case .deals: ["market", "clientOrderId", "startDate", "endDate", "offset", "limit"]
        }
    }

    /// Fields WhiteBIT wants as integers; the rest are strings.
    public static let integerFields: Set<String> = ["transactionMethod", "limit", "offset", "from", "to", "orderId", "startDate", "endDate"]

    /// Fields of this kind that take a list, written `NAME=a,b,c`.
    public var listFields: Set<String> {
        self == .transactions ? ["addresses", "status"] : []
    }
}

/// One `FIELD=VALUE` of a `history` line, typed as WhiteBIT wants it.
public enum HistoryValue: Sendable, Equatable {
    case integer(Int)
    case string(String)
    case integers([Int])
    case strings([String])
}

/// Which way a read reached WhiteBIT: signed with the issued key, or with the OAuth token.
public enum ReadRoute: String, Sendable, Equatable {
    case v4
    case bearer
}

/// What WhiteBIT answered to a `balance` or `history`, as it came (compact JSON text).
public struct AccountReadView: Sendable, Equatable {
    public var user: String
    /// `balance` or `history`: the JSON field that holds WhiteBIT's answer.
    public var field: String
    public var route: ReadRoute
    public var whitebitJSON: String

    public init(user: String, field: String, route: ReadRoute, whitebitJSON: String) {
        self.user = user
        self.field = field
        self.route = route
        self.whitebitJSON = whitebitJSON
    }
}

/// A signed request for the caller to send itself (`sign`).
public struct SignedRequestView: Sendable, Equatable {
    public var url: String
    public var body: String
    /// In the order they are shown: Content-Type, X-TXC-APIKEY, X-TXC-PAYLOAD, X-TXC-SIGNATURE.
    public var headers: [(name: String, value: String)]

    public init(url: String, body: String, headers: [(name: String, value: String)]) {
        self.url = url
        self.body = body
        self.headers = headers
    }

    public static func == (lhs: SignedRequestView, rhs: SignedRequestView) -> Bool {
        lhs.url == rhs.url && lhs.body == rhs.body && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

extension ControlParser {
    public static let maxHistoryFields = 16

    static func balance(_ arguments: [String]) throws(ControlError) -> ControlCommand {
        guard (2...3).contains(arguments.count) else { throw usage("balance USER main|spot [TICKER]") }
        let user = try user(arguments[0])
        guard let account = BalanceAccount(rawValue: arguments[1]) else {
            throw ControlError("unknown balance \(quoted(arguments[1])); balances: main, spot")
        }
        var ticker: String?
        if arguments.count == 3 {
            let word = arguments[2]
            guard (1...16).contains(word.count), word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ControlError("invalid ticker \(quoted(word)): 1–16 letters or digits, e.g. BTC")
            }
            ticker = word.uppercased()
        }
        return .balance(user: user, account: account, ticker: ticker)
    }

    static func history(_ arguments: [String]) throws(ControlError) -> ControlCommand {
        let usageText = "history USER transactions|converts|orders|deals [FIELD=VALUE …]"
        guard arguments.count >= 2 else { throw usage(usageText) }
        let user = try user(arguments[0])
        guard let kind = HistoryKind(rawValue: arguments[1]) else {
            throw ControlError("unknown history \(quoted(arguments[1])); histories: \(HistoryKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let pairs = arguments.dropFirst(2)
        guard pairs.count <= maxHistoryFields else { throw ControlError("at most \(maxHistoryFields) FIELD=VALUE pairs") }
        var fields: [String: HistoryValue] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ControlError("\(quoted(pair)) is not FIELD=VALUE")
            }
            let name = String(pair[..<equals]), text = String(pair[pair.index(after: equals)...])
            guard kind.fields.contains(name) else {
                throw ControlError("\(kind.rawValue) takes no field \(quoted(name)); fields: \(kind.fields.joined(separator: ", "))")
            }
            guard fields[name] == nil else { throw ControlError("field \(quoted(name)) given twice") }
            guard !text.isEmpty, text.count <= 128 else { throw ControlError("\(name): the value must be 1–128 characters") }
            fields[name] = try historyValue(name, text, kind: kind)
        }
        return .history(user: user, kind: kind, fields: fields)
    }

    private static func historyValue(_ name: String, _ text: String, kind: HistoryKind) throws(ControlError) -> HistoryValue {
        let integer = HistoryKind.integerFields.contains(name) || (kind == .transactions && name == "status")
        func number(_ word: Substring) throws(ControlError) -> Int {
            guard !word.isEmpty, word.allSatisfy(\.isASCIIDigit), let value = Int(word) else {
                throw ControlError("\(name): \(quoted(String(word))) is not a whole number")
            }
            return value
        }
        if kind.listFields.contains(name) {
            let items = text.split(separator: ",", omittingEmptySubsequences: false)
            guard items.count <= 20, !items.contains(where: \.isEmpty) else {
                throw ControlError("\(name): a list of 1–20 comma-separated values")
            }
            if integer {
                var numbers: [Int] = []
                for item in items { numbers.append(try number(item)) }
                return .integers(numbers)
            }
            return .strings(items.map(String.init))
        }
        return integer ? .integer(try number(text[...])) : .string(text)
    }

    /// `sign USER PATH [JSON-BODY]`: the body is the rest of the line as written (spaces
    /// inside JSON strings kept); the signer checks it is a JSON object.
    static func sign(line: String, arguments: [String], json: Bool) throws(ControlError) -> ControlCommand {
        guard arguments.count >= 2 else { throw usage("sign USER PATH [JSON-BODY]") }
        let user = try user(arguments[0])
        let path = arguments[1]
        guard path.hasPrefix("/"), path.count <= 256 else { throw ControlError("PATH must be an absolute path such as /api/v4/main-account/balance") }
        guard arguments.count > 2 else { return .sign(user: user, path: path, body: nil) }
        // The body starts at the third word: skip the command word, the user and the path.
        var rest = Substring(line)
        for _ in 0..<3 {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            rest = rest.drop { $0 != " " && $0 != "\t" }
        }
        var body = Substring(rest.drop { $0 == " " || $0 == "\t" })
        func trimEnd() { while let last = body.last, last == " " || last == "\t" { body.removeLast() } }
        trimEnd()
        if json {
            // The last word was `json`, taken as the answer's form: not part of the body.
            body = body.dropLast(4)
            trimEnd()
        }
        return .sign(user: user, path: path, body: String(body))
    }
}

extension ReplyRenderer {
    /// `balance` and `history`: JSON keeps WhiteBIT's answer byte for byte under its field;
    /// text shows balances as a table and histories as indented JSON.
    public func accountRead(_ view: AccountReadView) -> String {
        if json {
            return "{\(Self.jsonString(view.field)):\(view.whitebitJSON),\"route\":\(Self.jsonString(view.route.rawValue)),\"user\":\(Self.jsonString(view.user))}\n"
        }
        let header = "user: \(view.user)\nroute: \(view.route.rawValue)\n"
        let parsed = try? JSONSerialization.jsonObject(with: Data(view.whitebitJSON.utf8), options: [.fragmentsAllowed])
        if view.field == "balance", let object = parsed as? [String: Any] {
            if let rows = object as? [String: [String: Any]], !rows.isEmpty {
                let columns = Array(Set(rows.values.flatMap(\.keys))).sorted()
                let table = rows.keys.sorted().map { ticker in [ticker] + columns.map { Self.scalar(rows[ticker]?[$0]) } }
                return header + "\n" + Self.table(header: ["TICKER"] + columns.map { $0.uppercased() }, rows: table)
            }
            if !object.isEmpty, object.values.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                return header + Self.keyValues(object.keys.sorted().map { ($0, Self.scalar(object[$0])) })
            }
        }
        guard let parsed,
            let pretty = try? JSONSerialization.data(withJSONObject: parsed, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return header + view.whitebitJSON + "\n" }
        return header + String(decoding: pretty, as: UTF8.self) + "\n"
    }

    /// `sign`: what to send. Text is `url:`, `body:` and one line per header.
    public func signedRequest(_ view: SignedRequestView) -> String {
        if json {
            let headers = view.headers.map { "\(Self.jsonString($0.name)):\(Self.jsonString($0.value))" }.sorted().joined(separator: ",")
            return "{\"body\":\(Self.jsonString(view.body)),\"headers\":{\(headers)},\"url\":\(Self.jsonString(view.url))}\n"
        }
        return Self.keyValues([("url", view.url), ("body", view.body)] + view.headers.map { ($0.name, $0.value) })
    }

    static func scalar(_ value: Any?) -> String {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        case nil, is NSNull: "-"
        default: "\(value!)"
        }
    }

    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

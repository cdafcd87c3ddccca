import Foundation

/// `store.url` parsed (docs/design.md §13): `postgresql://USER@HOST:PORT/DATABASE?sslmode=…`,
/// or `postgres://`. Stricter than libpq on purpose: the URL is shown in `status` and in
/// logs, so a password in it is refused (it belongs in `store.password_file`), and so is any
/// parameter wbkeyd would not act on. No reason below repeats the URL or a value of its
/// user part, in case a password was written there after all.
public struct StoreURL: Sendable, Hashable, CustomStringConvertible {
    public enum Host: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case ipv4(String)
        /// Without brackets.
        case ipv6(String)

        public var description: String {
            switch self {
            case .name(let text), .ipv4(let text): text
            case .ipv6(let text): "[\(text)]"
            }
        }
    }

    /// libpq's modes that never fall back to clear text. `prefer` and `allow` (libpq's
    /// default is `prefer`) are refused: a server or a network that declines TLS would get
    /// the password and every sealed secret's row without anyone noticing.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable
        /// TLS, the server's certificate not checked.
        case require
        /// TLS, the certificate signed by a trusted CA; any host name.
        case verifyCA = "verify-ca"
        /// TLS, the certificate signed by a trusted CA and naming the host (the default).
        case verifyFull = "verify-full"
    }

    public static let defaultPort = 5432

    public let user: String
    /// Nil only when `socketDirectory` is given and the URL names no host.
    public let host: Host?
    public let port: Int
    public let database: String
    public let sslMode: SSLMode
    /// libpq's `host=/directory` parameter: the server's Unix socket is
    /// `DIRECTORY/.s.PGSQL.PORT`, and TLS does not apply.
    public let socketDirectory: String?
    /// `sslrootcert=/path`: the CA certificates for `verify-ca` and `verify-full`; nil: the
    /// system's trust store.
    public let sslRootCert: String?
    /// The URL as written (it holds no password: that is refused).
    public let text: String

    public var description: String { text }

    public init(parsing text: String) throws(ParseError) {
        self.text = text
        let lowered = text.lowercased()
        guard let scheme = ["postgresql://", "postgres://"].first(where: { lowered.hasPrefix($0) }) else { throw .scheme }
        var rest = Substring(text.dropFirst(scheme.count))
        guard !rest.contains("#") else { throw .fragment }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw .noDatabase }
        let authority = rest[..<slash]
        guard let at = authority.lastIndex(of: "@") else { throw .noUser }
        let userInfo = authority[..<at]
        guard !userInfo.contains(":") else { throw .passwordInURL }
        guard let user = Self.decoded(userInfo), !user.isEmpty else { throw .noUser }
        self.user = user
        let database = Self.decoded(rest[rest.index(after: slash)...]) ?? ""
        guard !database.isEmpty else { throw .noDatabase }
        guard database.utf8.count <= 63, !database.contains("/") else { throw .badDatabase }
        self.database = database
        let parameters = try Self.parameters(query)
        socketDirectory = parameters["host"]
        if let socketDirectory, !socketDirectory.hasPrefix("/") { throw .badSocketDirectory }
        (host, port) = try Self.hostAndPort(authority[authority.index(after: at)...], socket: socketDirectory != nil)
        if let mode = parameters["sslmode"] {
            guard let parsed = SSLMode(rawValue: mode) else { throw .badSSLMode(String(mode.prefix(40))) }
            sslMode = parsed
        } else {
            sslMode = .verifyFull
        }
        sslRootCert = parameters["sslrootcert"]
        if let sslRootCert {
            guard sslRootCert.hasPrefix("/") else { throw .badRootCert }
            guard sslMode == .verifyCA || sslMode == .verifyFull else { throw .rootCertWithoutVerification }
        }
    }

    static let parameterNames = ["sslmode", "host", "sslrootcert"]

    private static func parameters(_ query: Substring) throws(ParseError) -> [String: String] {
        var found: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decoded(parts[0]) ?? String(parts[0])
            if name == "password" { throw .passwordInURL }
            guard parameterNames.contains(name) else { throw .unknownParameter(String(name.prefix(40))) }
            guard found[name] == nil else { throw .repeatedParameter(name) }
            guard parts.count == 2, let value = decoded(parts[1]), !value.isEmpty else { throw .emptyParameter(name) }
            found[name] = value
        }
        return found
    }

    private static func hostAndPort(_ text: Substring, socket: Bool) throws(ParseError) -> (Host?, Int) {
        var hostPart = text
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .badHost }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badHost }
                portPart = after.dropFirst()
            }
            guard IPLiteral.isIPv6(String(hostPart)) else { throw .badHost }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        var port = defaultPort
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let number = Int(portPart), (1...65_535).contains(number)
            else { throw .badPort }
            port = number
        }
        if text.hasPrefix("[") { return (.ipv6(String(hostPart)), port) }
        if hostPart.isEmpty {
            guard socket else { throw .noHost }
            return (nil, port)
        }
        let host = String(hostPart)
        if IPLiteral.isIPv4(host) { return (.ipv4(host), port) }
        guard isHostName(host) else { throw .badHost }
        return (.name(host.lowercased()), port)
    }

    /// RFC 1123 names: labels of letters, digits and inner hyphens, 1–63 bytes, 253 in all.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            return label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
    }

    private static func decoded(_ text: Substring) -> String? {
        String(text).removingPercentEncoding
    }
}

extension StoreURL {
    /// `text` for display: as written when it holds no password (a valid URL never does),
    /// else with the user part replaced, so that even a refused URL can be shown.
    public static func shown(_ text: String) -> String {
        let lowered = text.lowercased()
        guard let scheme = ["postgresql://", "postgres://"].first(where: { lowered.hasPrefix($0) }) else { return text }
        let rest = text.dropFirst(scheme.count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let passwordParameter = text.range(of: "password=", options: .caseInsensitive) != nil
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return passwordParameter ? "<hidden: holds a password>" : text }
        guard !rest[..<at].contains(":"), !passwordParameter else { return "<hidden: holds a password>" }
        return text
    }
}

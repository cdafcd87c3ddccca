import DaemonConfig
import Testing

/// `store.url` on its own (docs/design.md §13): what it accepts, and each refusal's reason.
@Suite struct StoreURLTests {
    @Test func aFullURLIsParsed() throws {
        let url = try StoreURL(parsing: "postgresql://wbkeyd@db.example.com:6543/wbkeyd_prod?sslmode=verify-ca&sslrootcert=/etc/wbkeyd/ca.pem")
        #expect(url.user == "wbkeyd")
        #expect(url.host == .name("db.example.com"))
        #expect(url.port == 6543)
        #expect(url.database == "wbkeyd_prod")
        #expect(url.sslMode == .verifyCA)
        #expect(url.sslRootCert == "/etc/wbkeyd/ca.pem")
        #expect(url.socketDirectory == nil)
        #expect(url.description == url.text)
    }

    @Test func defaultsAreVerifyFullAndPort5432() throws {
        let url = try StoreURL(parsing: "postgres://app@10.0.0.5/keys")
        #expect(url.host == .ipv4("10.0.0.5"))
        #expect(url.port == 5432)
        #expect(url.sslMode == .verifyFull)
        #expect(url.sslRootCert == nil)
    }

    @Test func ipv6AndPercentEncodingAndSchemeCase() throws {
        let url = try StoreURL(parsing: "PostgreSQL://wb%40keyd@[fd00::7]:5433/my%20db?sslmode=disable")
        #expect(url.user == "wb@keyd")
        #expect(url.host == .ipv6("fd00::7"))
        #expect(url.host?.description == "[fd00::7]")
        #expect(url.port == 5433)
        #expect(url.database == "my db")
        #expect(url.sslMode == .disable)
        #expect(try StoreURL(parsing: "postgresql://u@[::1]/d").port == 5432)
    }

    @Test func aSocketDirectoryMayReplaceTheHost() throws {
        let url = try StoreURL(parsing: "postgresql://wbkeyd@/wbkeyd?host=/run/postgresql")
        #expect(url.host == nil)
        #expect(url.socketDirectory == "/run/postgresql")
        let withPort = try StoreURL(parsing: "postgresql://wbkeyd@localhost:5433/wbkeyd?host=%2Ftmp%2Fpg&sslmode=disable")
        #expect(withPort.socketDirectory == "/tmp/pg")
        #expect(withPort.port == 5433)
    }

    static let refused: [(url: String, error: StoreURL.ParseError)] = [
        ("mysql://u@h/d", .scheme),
        ("postgresql:/u@h/d", .scheme),
        ("https://u@h/d", .scheme),
        ("postgresql://h/d", .noUser),
        ("postgresql://@h/d", .noUser),
        ("postgresql://u:hunter2@h/d", .passwordInURL),
        ("postgresql://u:@h/d", .passwordInURL),
        ("postgresql://u@h/d?password=hunter2", .passwordInURL),
        ("postgresql://u@/d", .noHost),
        ("postgresql://u@h", .noDatabase),
        ("postgresql://u@h/", .noDatabase),
        ("postgresql://u@h/a%2Fb", .badDatabase),
        ("postgresql://u@h/" + String(repeating: "d", count: 64), .badDatabase),
        ("postgresql://u@h:0/d", .badPort),
        ("postgresql://u@h:65536/d", .badPort),
        ("postgresql://u@h:/d", .badPort),
        ("postgresql://u@h:54x/d", .badPort),
        ("postgresql://u@[::1/d", .badHost),
        ("postgresql://u@[nothost]/d", .badHost),
        ("postgresql://u@bad_host/d", .badHost),
        ("postgresql://u@-h.example/d", .badHost),
        ("postgresql://u@h/d#x", .fragment),
        ("postgresql://u@h/d?sslmode=prefer", .badSSLMode("prefer")),
        ("postgresql://u@h/d?sslmode=allow", .badSSLMode("allow")),
        ("postgresql://u@h/d?sslmode=VERIFY-FULL", .badSSLMode("VERIFY-FULL")),
        ("postgresql://u@h/d?connect_timeout=5", .unknownParameter("connect_timeout")),
        ("postgresql://u@h/d?sslmode=require&sslmode=disable", .repeatedParameter("sslmode")),
        ("postgresql://u@h/d?sslmode=", .emptyParameter("sslmode")),
        ("postgresql://u@h/d?host=run/pg", .badSocketDirectory),
        ("postgresql://u@h/d?sslrootcert=ca.pem", .badRootCert),
        ("postgresql://u@h/d?sslmode=require&sslrootcert=/etc/ca.pem", .rootCertWithoutVerification),
    ]

    @Test(arguments: refused)
    func aBadURLIsRefusedWithItsReason(url: String, error: StoreURL.ParseError) {
        #expect(throws: error) { try StoreURL(parsing: url) }
    }

    @Test func noReasonRepeatsThePassword() {
        for url in ["postgresql://u:hunter2@h/d", "postgresql://u@h/d?password=hunter2", "postgresql://u:hunter2@h/d?sslmode=prefer"] {
            do {
                _ = try StoreURL(parsing: url)
                Issue.record("\(url) must be refused")
            } catch {
                #expect(!error.description.contains("hunter2"))
                #expect(error.description.contains("store.password_file"))
            }
            #expect(!StoreURL.shown(url).contains("hunter2"))
        }
        #expect(StoreURL.shown("postgresql://u@h/d") == "postgresql://u@h/d")
    }

    @Test func theReasonsSayWhatToDo() {
        #expect(StoreURL.ParseError.unknownParameter("connect_timeout").description
            == "unknown query parameter \"connect_timeout\"; wbkeyd takes sslmode, host (a socket directory) and sslrootcert")
        #expect(StoreURL.ParseError.badSSLMode("prefer").description.hasPrefix(
            "sslmode \"prefer\" is not accepted; use disable, require, verify-ca or verify-full"))
    }
}

import Logging
import PKCE
import Sensitive
import Synchronization
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// One integration scenario: a real `whitebit-sim` process, a real client talking to it
/// over loopback, and everything the test saw kept aside. When the scenario ends, every
/// secret the simulator knows (tokens, codes, API secrets, client secrets) and every
/// verifier the scenario used is searched for in all log lines and all error texts;
/// finding one fails the test.
final class SimScenario: Sendable {
    static let clientID = SimDefaults.clientID
    static let clientSecret = SimDefaults.clientSecret
    static let redirectURI = SimDefaults.redirectURI

    let sim: SimProcess
    let logs = LogRecorder()
    /// The client most tests use, configured as the simulator's default client.
    let client: WhiteBITClient
    private let clients = Mutex<[WhiteBITClient]>([])
    private let errorTexts = Mutex<[String]>([])
    private let verifiers = Mutex<[Sensitive]>([])

    private init(sim: SimProcess, adjust: (inout WhiteBITClient.Configuration) -> Void) throws {
        self.sim = sim
        self.client = try Self.makeClient(sim: sim, logs: logs, adjust: adjust)
        clients.withLock { $0.append(client) }
    }

    /// Runs `body` against a fresh simulator, then checks that nothing leaked.
    static func run(
        simulatorArguments: [String] = [],
        configuration adjust: (inout WhiteBITClient.Configuration) -> Void = { _ in },
        _ body: (SimScenario) async throws -> Void
    ) async throws {
        try await SimProcess.withRunning(arguments: simulatorArguments) { sim in
            let scenario = try SimScenario(sim: sim, adjust: adjust)
            do {
                try await body(scenario)
                try await scenario.expectNoSecretLeaked()
            } catch {
                await scenario.shutdownClients()
                throw error
            }
            await scenario.shutdownClients()
        }
    }

    private static func makeClient(
        sim: SimProcess, logs: LogRecorder, adjust: (inout WhiteBITClient.Configuration) -> Void
    ) throws -> WhiteBITClient {
        var configuration = WhiteBITClient.Configuration(
            baseURL: sim.baseURL, clientID: clientID, clientSecret: clientSecret, requestTimeout: .seconds(20)
        )
        adjust(&configuration)
        return try WhiteBITClient(configuration: configuration, logger: logs.logger())
    }

    /// Another client on the same simulator (another OAuth client, another timeout), whose
    /// logs and errors are checked like the main one's.
    func makeClient(_ adjust: (inout WhiteBITClient.Configuration) -> Void) throws -> WhiteBITClient {
        let extra = try Self.makeClient(sim: sim, logs: logs, adjust: adjust)
        clients.withLock { $0.append(extra) }
        return extra
    }

    /// The user consents with a fresh PKCE pair; the verifier is remembered for the leak check.
    func authorize(
        user: String, clientID: String? = nil, key: SimKeyAppearance? = nil
    ) async throws -> SimAuthorization {
        let authorization = try await sim.admin.authorize(user: user, clientID: clientID, key: key)
        verifiers.withLock { $0.append(authorization.verifier) }
        return authorization
    }

    /// Consent and token exchange in one.
    func token(user: String, key: SimKeyAppearance? = nil, using client: WhiteBITClient? = nil) async throws -> (
        token: AccessToken, authorization: SimAuthorization
    ) {
        let client = client ?? self.client
        let authorization = try await authorize(user: user, clientID: client.configuration.clientID, key: key)
        let token = try await client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
        return (token, authorization)
    }

    /// The `WhiteBITError` that `body` throws, kept for the leak check; records an issue if
    /// `body` succeeds or throws anything else.
    func failure<Value>(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Value
    ) async -> WhiteBITError? {
        do {
            _ = try await body()
            Issue.record("expected a WhiteBITError, the call succeeded", sourceLocation: sourceLocation)
            return nil
        } catch let error as WhiteBITError {
            errorTexts.withLock {
                $0 += [error.description, error.localizedDescription, "\(error)", String(reflecting: error)]
            }
            return error
        } catch {
            Issue.record("expected a WhiteBITError, got \(type(of: error))", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Polls the simulator's state until `condition` holds (at most about 10 s). For
    /// server-side progress that has no event to await, such as a request having arrived.
    func waitForState(_ condition: (SimState) -> Bool, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        for _ in 0..<1000 {
            if condition(try await sim.admin.state()) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the simulator never reached the expected state", sourceLocation: sourceLocation)
    }

    private func expectNoSecretLeaked() async throws {
        let state = try await sim.admin.state()
        var secrets = state.tokens.map(\.accessToken) + state.codes.map(\.code) + state.keys.map(\.apiSecret)
            + state.clients.map(\.clientSecret)
        secrets += verifiers.withLock { $0.map(\.revealed) }
        secrets = secrets.filter { $0.count >= 6 }

        var haystack = logs.all + errorTexts.withLock { $0 }
        for client in clients.withLock({ $0 }) {
            let counters = client.counters
            haystack.append(String(reflecting: counters))
            haystack.append(counters.lastError?.description ?? "")
            haystack.append("\(client.configuration)")
        }
        #expect(!logs.all.isEmpty, "the client logged nothing: the leak check would be empty")
        for text in haystack where secrets.contains(where: { text.contains($0) }) {
            // Named without being printed: the test output must not carry it either.
            Issue.record("a secret leaked into: \(secrets.reduce(text) { $0.replacingEvery($1, with: "<SECRET>") })")
        }
    }

    private func shutdownClients() async {
        for client in clients.withLock({ $0 }) {
            await client.shutdown()
        }
    }
}

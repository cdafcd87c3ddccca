/// One database of a test server, owned by the `wbkeyd` role, and the URLs that reach it.
/// The role's password is the server's (`PostgresServer.password`, `passwordFile`), kept
/// out of the URLs as wbkeyd's `store.url` keeps it out.
public struct PostgresDatabase: Sendable, Equatable {
    public let name: String
    /// `postgresql://wbkeyd@127.0.0.1:PORT/NAME?sslmode=disable`: password authentication
    /// (scram-sha-256).
    public let url: String
    /// The same database through the server's Unix socket (libpq's `host=DIRECTORY`),
    /// where every role is trusted: the socket's directory is private to the server.
    public let socketURL: String
}

import Foundation
import Testing
@testable import GrantLifecycle

/// `docs/states.md` is the table of every move between states that the engine makes.
/// The random walks of `InvariantTests` drive the real engine; every move they see must
/// be in the table, and every row of the table must be seen, so the two cannot drift.
@Suite struct StateTableTests {
    struct Move: Hashable, Comparable, CustomStringConvertible {
        let from: String
        let event: String
        let to: String
        var description: String { "| `\(from)` | \(event) | `\(to)` |" }
        static func < (a: Move, b: Move) -> Bool { (a.from, a.event, a.to) < (b.from, b.event, b.to) }
    }

    static func label(_ failure: CallFailure) -> String {
        switch failure {
        case .unauthorized: "401"
        case .forbidden: "403"
        case .notFound: "404"
        case .alreadyRetrieved: "409"
        case .locked: "423"
        case .transient: "transient"
        case .rejected: "refused"
        }
    }

    static func label(_ event: GrantEvent) -> String {
        switch event {
        case .authorizationReceived: "authorization received"
        case .revokeRequested: "revoke requested"
        case .due: "deadline due"
        case .reconcileRequested: "reconcile requested"
        case .tokenExchanged: "token exchanged"
        case .tokenExchangeFailed(let f): "token exchange failed (\(label(f)))"
        case .keyInfo(let info):
            !info.exists ? "info: no key" : info.isEnabled ? "info: key enabled" : "info: key disabled"
        case .keyInfoFailed(let f): "info failed (\(label(f)))"
        case .secretFetched: "secret fetched"
        case .secretFetchFailed(let f): "secret fetch failed (\(label(f)))"
        case .keyDeleted: "key deleted (200 or 404)"
        case .keyDeletionFailed(let f): "delete failed (\(label(f)))"
        case .keyChecked(let report): "key checked: \(report.outcome.rawValue)"
        }
    }

    static func observed() -> Set<Move> {
        var moves = Set<Move>()
        InvariantTests().walk(seed: 42) { before, event, after, _ in
            if before.state != after.grant.state {
                moves.insert(Move(from: before.state.rawValue, event: label(event), to: after.grant.state.rawValue))
            }
        }
        return moves
    }

    static func documented() throws -> (moves: Set<Move>, states: Set<String>) {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/states.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        var moves = Set<Move>()
        var states = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            func name(_ cell: String) -> String { cell.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            if cells.count == 3, cells[2].hasPrefix("`") {
                moves.insert(Move(from: name(cells[0]), event: cells[1], to: name(cells[2])))
            } else if cells.count >= 2 {
                states.insert(name(cells[0]))
            }
        }
        return (moves, states)
    }

    @Test func everyMoveTheEngineMakesIsInTheTableAndNoOther() throws {
        let seen = Self.observed()
        let table = try Self.documented().moves
        let missing = seen.subtracting(table).sorted()
        let stale = table.subtracting(seen).sorted()
        #expect(missing.isEmpty, "moves the engine makes that docs/states.md lacks:\n\(missing.map(\.description).joined(separator: "\n"))")
        #expect(stale.isEmpty, "rows of docs/states.md the engine never makes:\n\(stale.map(\.description).joined(separator: "\n"))")
    }

    @Test func everyStateIsDescribed() throws {
        #expect(try Self.documented().states == Set(GrantState.allCases.map(\.rawValue)))
    }
}

import Foundation
import WBKeydHarness
import WhiteBITSimHarness

/// The demo as the partner application in agent mode (docs/design.md §12), once alice's key
/// is verified: it follows `events` for a few rows, has wbkeyd sign a balance read for alice
/// and sends it to WhiteBIT (the simulator) itself, and reads her balance through wbkeyd.
/// The secret never leaves wbkeyd, and nothing printed here signs anything: the signature
/// and the payload are described, never shown.
enum DemoAgent {
    /// Rows of `events` shown before the demo stops following; the stream goes on for
    /// anyone else who subscribes.
    static let shownEventRows = 6
    static let signedPath = "/api/v4/main-account/balance"

    static func run(on fixture: DaemonFixture, display: DemoDisplay, eventRows: Int = shownEventRows) async {
        do {
            try await fixture.awaitEvent("key_verified", user: "alice", timeout: .seconds(120))
        } catch {
            if !Task.isCancelled { display.note("agent mode: alice's key was not verified within 120 s; nothing signed") }
            return
        }
        let socket = fixture.paths.controlSocket
        display.note("")
        display.note("alice's key is verified. The demo now plays the partner app in agent mode (docs/design.md §12):")
        let follower: Task<Void, Never>
        do {
            let events = try HeldControlConnection(socket: socket, line: "events")
            display.note("  echo events | socat -t 3600 - UNIX-CONNECT:\(socket)   (the first \(eventRows) rows, as they commit)")
            // Subscribed before anything is signed, so that the rows of what follows are streamed.
            let subscribed = try await events.readLine(timeout: .seconds(10)) ?? "(wbkeyd closed the stream)"
            display.note("    events: " + (compact(eventLine: subscribed) ?? subscribed))
            follower = Task { await follow(events, rows: eventRows, display: display) }
        } catch {
            display.note("  events: \(error)")
            follower = Task {}
        }
        await sign(on: fixture, display: display)
        await follower.value
    }

    /// `wanted` rows, a line each.
    static func follow(_ events: HeldControlConnection, rows wanted: Int, display: DemoDisplay) async {
        defer { events.hangUp() }
        var rows = 0
        while rows < wanted {
            guard !Task.isCancelled, let line = try? await events.readLine(timeout: .seconds(300)) else { return }
            guard let shown = compact(eventLine: line) else { continue }
            display.note("    events: " + shown)
            rows += 1
        }
        display.note("    events: (the demo stops following here)")
    }

    /// `#SEQ HH:MM:SS USER EVENT key=value …` for an audit row; the subscription line as
    /// it says where the stream starts. Nil for anything else.
    static func compact(eventLine line: String) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return nil }
        if let subscribed = object["subscribed"] as? [String: Any] {
            return "subscribed: every audit row after seq \(subscribed["after_seq"].map { "\($0)" } ?? "?") follows"
        }
        guard let seq = object["seq"], let event = object["event"] as? String else { return nil }
        let at = (object["at"] as? String).flatMap { $0.split(separator: "T").last }.map { String($0.prefix(8)) } ?? ""
        var words = ["#\(seq)", at, (object["user"] as? String) ?? "-", event]
        if let detail = object["detail"] as? [String: Any] {
            for key in detail.keys.sorted() { words.append("\(key)=\(detail[key].map { "\($0)" } ?? "")") }
        }
        let text = words.filter { !$0.isEmpty }.joined(separator: " ")
        return text.count > 110 ? String(text.prefix(109)) + "…" : text
    }

    /// `sign alice PATH json`, the signed request sent to the simulator as the app would,
    /// then the same read through wbkeyd.
    static func sign(on fixture: DaemonFixture, display: DemoDisplay) async {
        do {
            let answer = try await fixture.control("sign alice \(signedPath) json")
            guard let request = try? SignedRequestAnswer(json: answer) else {
                display.note("  sign alice \(signedPath): \(answer.trimmingCharacters(in: .whitespacesAndNewlines))")
                return
            }
            display.note("  sign alice \(signedPath) json → the body to send, byte for byte: \(request.body)")
            display.note("    and its headers: X-TXC-APIKEY \(request.headers["X-TXC-APIKEY"] ?? "?") (alice's key id), X-TXC-PAYLOAD (the body in base64), X-TXC-SIGNATURE (HMAC-SHA512 with her secret, which stays in wbkeyd)")
            let (status, body) = try await request.send()
            let verdict = status == 200 ? "accepted" : "refused"
            display.note("  sent by the demo to WhiteBIT (whitebit-sim) at \(request.url): \(status), \(verdict): \(shortened(body))")
        } catch {
            display.note("  sign alice \(signedPath): \(error)")
        }
        do {
            let read = try await fixture.control("balance alice main BTC")
            let lines = read.split(separator: "\n").filter { !$0.isEmpty }.joined(separator: ", ")
            display.note("  balance alice main BTC (wbkeyd signs and sends it itself) → \(lines)")
        } catch {
            display.note("  balance alice main BTC: \(error)")
        }
    }

    static func shortened(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > 90 ? String(line.prefix(89)) + "…" : line
    }
}

import ControlProtocol
import ControlSocket
import Foundation

/// `events` and `wait` (docs/design.md §12): the commands that hold their connection.
/// Every other line is answered by `answer`, once.
extension ControlDispatcher {
    func respond(_ line: String, peer: PeerCredentials) async -> ControlAnswer {
        guard let request = try? ControlParser.parse(line) else { return .reply(await answer(line, peer: peer)) }
        let renderer = ReplyRenderer(json: request.json, now: Date())
        switch request.command {
        case .events(let user):
            if let refusal = await refusal(of: request, peer: peer, renderer: renderer) { return .reply(refusal) }
            let events = engine.events
            let logger = logger
            return .held(group: "events") { stream in
                guard let id = events.subscribe(stream, user: user, renderer: renderer) else { return }
                await stream.closed()
                if events.unsubscribe(id) {
                    logger.warning(
                        "events subscriber cut off: it did not read its rows",
                        metadata: ["uid": "\(peer.uid)", "pid": "\(peer.pid)", "limit_bytes": "\(stream.maxPendingBytes)"])
                }
            }
        case .wait(let user, let states, let timeout):
            if let refusal = await refusal(of: request, peer: peer, renderer: renderer) { return .reply(refusal) }
            // Answered at once when it can be, without taking a held slot.
            do {
                if let grant = try await engine.grantView(user), states.contains(grant.state) {
                    return .reply(renderer.waited(user: user, state: grant.state))
                }
            } catch {
                return .reply(renderer.error("\(error)"))
            }
            let engine = engine
            return .held(group: "wait") { stream in
                let reply: String
                do {
                    switch try await engine.waitForState(of: user, in: states, timeout: timeout) {
                    case .reached(let grant): reply = renderer.waited(user: user, state: grant.state)
                    case .timedOut(let grant):
                        let now = grant.map { "is \($0.state.rawValue)" } ?? "has no grant"
                        reply = renderer.error(
                            "timeout: \(user) \(now) after \(Self.seconds(timeout)), not \(states.map(\.rawValue).joined(separator: ","))")
                    case .cancelled: return
                    }
                } catch {
                    reply = renderer.error("\(error)")
                }
                stream.send(reply)
            }
        default:
            return .reply(await answer(line, peer: peer))
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}

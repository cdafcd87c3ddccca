import Foundation
import Glibc
import Synchronization
import UnixSocketAddress

/// A real Unix socket that stands in for wbkeyd where the test is about wbkeyctl: it
/// records each line it receives and answers from a script (or not at all).
final class ScriptedControlSocket: Sendable {
    enum Reply: Sendable {
        case answer(String)
        /// Close without a word.
        case hangUp
        /// Keep the connection open until `release()`.
        case silence
    }

    let path: String
    private let listener: Int32
    private let state = Mutex<(lines: [String], replies: [Reply])>(([], []))
    private let held = Mutex<[Int32]>([])

    init(directory: String, replies: [Reply]) throws {
        path = directory + "/control.sock"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard UnixSocketAddress.bind(listener, to: path) == 0, listen(listener, 16) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        state.withLock { $0.replies = replies }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// The lines received so far, in order.
    var lines: [String] { state.withLock { $0.lines } }

    /// Closes connections kept open by `.silence` and stops accepting.
    func release() {
        for descriptor in held.withLock({ held in defer { held = [] }; return held }) { close(descriptor) }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let line = readLine(connection)
            let reply = state.withLock { state -> Reply in
                state.lines.append(line)
                return state.replies.isEmpty ? .hangUp : state.replies.removeFirst()
            }
            switch reply {
            case .answer(let text):
                _ = text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(connection)
            case .hangUp:
                close(connection)
            case .silence:
                held.withLock { $0.append(connection) }
            }
        }
    }

    private func readLine(_ connection: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(connection, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A directory of its own under /tmp, removed when the last reference goes.
final class ScratchDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/wbkeyctl-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

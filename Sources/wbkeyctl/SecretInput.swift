import Glibc
import Sensitive

/// Reads a code, verifier or state from a file or standard input, so it never has to stand
/// on a command line where every local user can see it.
enum SecretInput {
    /// More than any valid code (2048) or verifier (128); bounds what a wrong path
    /// (a log, a device) could make wbkeyctl read.
    static let limit = 65_536

    static func read(_ path: String, option: String) throws(WBKeyCtlError) -> Sensitive {
        var bytes = try readBytes(path, option: option)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return Sensitive(String(decoding: bytes, as: UTF8.self))
    }

    /// Standard input carrying two values, one per line: the code, then the verifier or
    /// state. Neither can hold a newline, so the split is unambiguous.
    static func readTwoLines(options: String) throws(WBKeyCtlError) -> (Sensitive, Sensitive) {
        var bytes = try readBytes("-", option: options)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        guard lines.count == 2 else {
            throw .usage("\(options) -: standard input must hold two lines, the code and then the other value; it holds \(lines.count)")
        }
        return (Sensitive(String(decoding: lines[0], as: UTF8.self)), Sensitive(String(decoding: lines[1], as: UTF8.self)))
    }

    private static func readBytes(_ path: String, option: String) throws(WBKeyCtlError) -> [UInt8] {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .usage("\(option) \(path): \(WBKeyCtlError.describe(errno: errno))")
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        let source = path == "-" ? "standard input" : path
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= limit {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .usage("\(option) \(source): \(WBKeyCtlError.describe(errno: errno))") }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        guard bytes.count <= limit else { throw .usage("\(option) \(source): more than \(limit) bytes; that is no code or verifier") }
        return bytes
    }
}

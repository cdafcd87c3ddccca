import Foundation
import Glibc
import Testing
import WBKeydHarness
import WhiteBITSimHarness

// What MetricsListenerTests scrape and listen with: curl over real TCP, the exposition
// parsed, and the kernel's own table of the ports the daemon has bound.

/// One HTTP exchange by curl over real TCP.
struct Scrape {
    let status: Int
    let contentType: String
    let body: String
}

func scrape(port: Int, path: String = "/metrics", method: String = "GET") async throws -> Scrape {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("wbkeyd-scrape-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    var arguments = ["-sS", "-g", "--max-time", "20", "--path-as-is", "-o", file, "-w", "%{http_code}\n%{content_type}\n"]
    arguments += method == "HEAD" ? ["-I"] : ["-X", method]
    arguments.append("http://127.0.0.1:\(port)\(path)")
    let result = try await CommandRunner.run(try CommandRunner.onPath("curl"), arguments)
    #expect(result.exitStatus == 0, "curl \(arguments): \(result.standardError)")
    let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let body = method == "HEAD" ? "" : (FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? "")
    return Scrape(status: Int(lines.first ?? "") ?? -1, contentType: lines.count > 1 ? lines[1] : "", body: body)
}

/// True when nothing answers HTTP on `port` (curl cannot connect).
func scrapeFails(port: Int) async throws -> Bool {
    let result = try await CommandRunner.run(
        try CommandRunner.onPath("curl"), ["-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1:\(port)/metrics"])
    return result.exitStatus != 0
}

/// The samples of an exposition by `name{labels}` as written.
struct Samples {
    let values: [String: Double]

    init(_ text: String) {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            values[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        self.values = values
    }

    subscript(key: String) -> Double? { values[key] }

    var keys: Set<String> { Set(values.keys) }

    /// The values of `label` across the series of `name`.
    func labelValues(_ name: String, _ label: String) -> Set<String> {
        Set(values.keys.compactMap { key -> String? in
            guard key.hasPrefix(name + "{"), let range = key.range(of: "\(label)=\"") else { return nil }
            return String(key[range.upperBound...].prefix { $0 != "\"" })
        })
    }
}

extension DaemonFixture {
    /// The port of the metrics listener, from the line the daemon logs when it binds.
    func metricsPort() async throws -> Int {
        let line = try await process.awaitLine(since: 0, timeout: .seconds(30), describedAs: "metrics listening") {
            $0.text.contains("metrics listening")
        }
        let address = try #require(line.value("address"), "\(line)")
        return try #require(Int(address.split(separator: ":").last ?? ""), "\(line)")
    }

    /// `Daemon.version`, from `status json`.
    func version() async throws -> String {
        let answer = try await control("status json")
        let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
        return try #require(object?["version"] as? String, "\(answer)")
    }
}

/// TCP ports that `pid` listens on, from its descriptors and /proc/net/tcp{,6}: the
/// kernel's word on what the daemon has bound, with no connection attempt.
func listeningTCPPorts(of pid: pid_t) throws -> [Int] {
    let fdDirectory = "/proc/\(pid)/fd"
    var inodes: Set<String> = []
    for name in try FileManager.default.contentsOfDirectory(atPath: fdDirectory) {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(name)"),
            target.hasPrefix("socket:[")
        else { continue }
        inodes.insert(String(target.dropFirst(8).dropLast()))
    }
    var ports: [Int] = []
    for table in ["/proc/\(pid)/net/tcp", "/proc/\(pid)/net/tcp6"] {
        guard let text = procFile(table) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl local_address rem_address st … inode; state 0A is LISTEN.
            guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
                let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { continue }
            ports.append(port)
        }
    }
    return ports.sorted()
}

/// A /proc file read to its end with read(2): its size says 0, and a table of many
/// sockets spans many pages, so a reader that trusts the size or one page misses rows.
func procFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { _ = Glibc.close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return nil }
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A loopback TCP socket that listens and never answers: an address that is taken.
final class TCPListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        // Close-on-exec: a daemon that another test starts meanwhile must not inherit it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw HarnessError.unexpectedOutput(command: "bind 127.0.0.1:0", detail: String(cString: strerror(errno))) }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// A plain TCP client on loopback, for a connection held open as a scraper would.
final class TCPConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard fd >= 0, connected else { throw HarnessError.unexpectedOutput(command: "connect 127.0.0.1:\(port)", detail: String(cString: strerror(errno))) }
        descriptor = fd
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, 0) }
    }

    /// Reads until `atLeast` bytes came, the peer closed, or 20 s passed without a byte.
    func read(atLeast count: Int) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func close() { _ = Glibc.close(descriptor) }
}

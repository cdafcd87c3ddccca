import Foundation
import Testing
import UnixSocketAddress

@Suite struct UnixSocketAddressTests {
    static func streamSocket() -> Int32 { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }

    @Test func bindThenConnectByPath() throws {
        let path = "/tmp/usa-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        let listener = Self.streamSocket()
        defer { close(listener) }
        #expect(UnixSocketAddress.bind(listener, to: path) == 0)
        #expect(listen(listener, 1) == 0)
        var status = stat()
        #expect(stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK)
        let client = Self.streamSocket()
        defer { close(client) }
        #expect(UnixSocketAddress.connect(client, to: path) == 0)
    }

    @Test func anAtSignNamesTheAbstractNamespace() throws {
        let name = "@usa-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = Self.streamSocket()
        defer { close(listener) }
        #expect(UnixSocketAddress.bind(listener, to: name) == 0)
        #expect(listen(listener, 1) == 0)
        #expect(access(name, F_OK) != 0, "no file is made for an abstract name")
        let client = Self.streamSocket()
        defer { close(client) }
        #expect(UnixSocketAddress.connect(client, to: name) == 0)
    }

    @Test func aPathThatDoesNotFitFailsWithoutTheCall() {
        let descriptor = Self.streamSocket()
        defer { close(descriptor) }
        let fits = "/" + String(repeating: "a", count: UnixSocketAddress.maxPathBytes - 1)
        let tooLong = fits + "a"
        #expect(UnixSocketAddress.maxPathBytes == 107)
        var called = false
        #expect(UnixSocketAddress.withAddress(of: tooLong) { _, _ in called = true; return 0 } == -1)
        #expect(errno == ENAMETOOLONG && !called)
        #expect(UnixSocketAddress.withAddress(of: fits) { _, length in Int32(length) } == Int32(2 + 107 + 1))
        #expect(UnixSocketAddress.connect(descriptor, to: "") == -1 && errno == EINVAL)
    }

    @Test func connectingToNothingSaysWhy() {
        let descriptor = Self.streamSocket()
        defer { close(descriptor) }
        #expect(UnixSocketAddress.connect(descriptor, to: "/nonexistent/wbkeyd.sock") == -1)
        #expect(errno == ENOENT)
    }
}

import Foundation
import Glibc
import Spool
import Testing

@testable import Spool

/// Serialized: these tests identify descriptors by what /proc/self/fd says they are,
/// and two inotify descriptors look alike there.
@Suite(.serialized) struct SpoolWatcherTests {
    @Test func aDeliveryRenamedIntoNewWakesTheWatcher() async throws {
        let temporary = try TemporarySpool()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        try temporary.deliver("{}", as: "delivered.json", modified: testNow)
        #expect(await firstWakeUp(watcher.wakeUps))
        watcher.stop()
        await watcher.waitUntilStopped()
        #expect(watcher.failure == nil)
    }

    @Test func aWriterThatWritesIntoNewDirectlyStillWakesIt() async throws {
        let temporary = try TemporarySpool()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        try writeFile(temporary.spool.newPath + "/careless.json", Array("{}".utf8))
        #expect(await firstWakeUp(watcher.wakeUps))
        watcher.stop()
        await watcher.waitUntilStopped()
    }

    @Test func filesInTmpDoNotWakeIt() async throws {
        let temporary = try TemporarySpool()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        try writeFile(temporary.spool.tmpPath + "/staging.json", Array("{}".utf8))
        try temporary.deliver("{}", as: "marker.json", modified: testNow)
        // The first wake-up is the delivery; after draining it, nothing else is pending.
        #expect(await firstWakeUp(watcher.wakeUps))
        watcher.stop()
        await watcher.waitUntilStopped()
        var iterator = watcher.wakeUps.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test func cancellingTheConsumerStopsTheThreadAndClosesEveryDescriptor() async throws {
        let temporary = try TemporarySpool()
        let inotifyBefore = try openInotifyCount()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        let identities = try watcher.descriptors.map(descriptorIdentity)
        #expect(identities.filter { $0 == "anon_inode:inotify" }.count == 1)
        #expect(identities.filter { $0.hasPrefix("socket:[") }.count == 2)
        #expect(try openInotifyCount() == inotifyBefore + 1)

        let consumer = Task {
            var wakeUps = 0
            for await _ in watcher.wakeUps { wakeUps += 1 }
            return wakeUps
        }
        try temporary.deliver("{}", as: "one.json", modified: testNow)
        consumer.cancel()
        _ = await consumer.value
        await watcher.waitUntilStopped()

        // Other suites open and close files in parallel, so a plain count of
        // /proc/self/fd would flake; inotify descriptors are this suite's alone, and
        // the sockets are recognised by their inode.
        #expect(try openInotifyCount() == inotifyBefore)
        for (descriptor, identity) in zip(watcher.descriptors, identities) {
            // Closed, or its number since reused for something else.
            let now = try? descriptorIdentity(descriptor)
            #expect(now != identity, "descriptor \(descriptor) (\(identity)) is still open")
        }
        #expect(watcher.failure == nil)
    }

    @Test func losingTheDirectoryEndsTheStreamWithAFailure() async throws {
        let temporary = try TemporarySpool()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        try check(rmdir(temporary.spool.newPath), "rmdir", temporary.spool.newPath)
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in watcher.wakeUps {}
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "the stream did not finish within 30 s")
        await watcher.waitUntilStopped()
        #expect(watcher.failure?.operation == "inotify watch lost")
    }

    @Test func watchingAMissingDirectoryIsATypedError() throws {
        let temporary = try TemporarySpool()
        #expect(throws: SpoolIOError.self) { try SpoolWatcher(directory: temporary.base + "/absent") }
    }

    @Test func stopWithoutAConsumerEndsTheThread() async throws {
        let temporary = try TemporarySpool()
        let watcher = try SpoolWatcher(spool: temporary.spool)
        let identities = try watcher.descriptors.map(descriptorIdentity)
        watcher.stop()
        watcher.stop()
        await watcher.waitUntilStopped()
        for (descriptor, identity) in zip(watcher.descriptors, identities) {
            #expect((try? descriptorIdentity(descriptor)) != identity)
        }
    }
}

/// True when the stream yields within a generous time; the timeout only turns a hang
/// into a failure, it never decides a pass.
func firstWakeUp(_ wakeUps: AsyncStream<Void>, within timeout: Duration = .seconds(30)) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            for await _ in wakeUps { return true }
            return false
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}

/// What /proc/self/fd says a descriptor is ("socket:[123]", "anon_inode:inotify").
func descriptorIdentity(_ descriptor: Int32) throws -> String {
    try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")
}

func openInotifyCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter {
        (try? descriptorIdentity(Int32($0) ?? -1)) == "anon_inode:inotify"
    }.count
}

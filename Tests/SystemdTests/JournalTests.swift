import Foundation
import Glibc
import Logging
import Testing
@testable import Systemd

@Suite struct JournalTests {
    @Test func entriesCarryTheStructuredFields() {
        let fields = JournalLogHandler.fields(
            identifier: "wbkeyd", level: .warning, message: "key deleted",
            metadata: ["event": "key_revoked", "user": "u-1001", "external_id": "ext-1", "http status": "404"],
            file: "Daemon/Revocation.swift", function: "delete()", line: 42)
        #expect(fields.contains("MESSAGE=key deleted"))
        #expect(fields.contains("PRIORITY=4"))
        #expect(fields.contains("SYSLOG_IDENTIFIER=wbkeyd"))
        #expect(fields.contains("CODE_FILE=Daemon/Revocation.swift"))
        #expect(fields.contains("CODE_LINE=42"))
        #expect(fields.contains("CODE_FUNC=delete()"))
        #expect(fields.contains("WBKEYD_EVENT=key_revoked"))
        #expect(fields.contains("MESSAGE_ID=\(JournalMessageID.byEvent["key_revoked"]!)"))
        #expect(fields.contains("WBKEYD_USER=u-1001"))
        #expect(fields.contains("WBKEYD_EXTERNAL_ID=ext-1"))
        #expect(fields.contains("WBKEYD_HTTP_STATUS=404"))
    }

    @Test func messageIDsAreDistinct128BitHex() {
        let ids = Array(JournalMessageID.byEvent.values)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func theCatalogExplainsEveryMessageID() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalog = try String(contentsOf: root.appendingPathComponent("systemd/wbkeyd.catalog"), encoding: .utf8)
        for (event, id) in JournalMessageID.byEvent {
            #expect(catalog.contains("-- \(id)\nSubject: "), "catalog lacks \(event)")
            #expect(catalog.contains("Event name: \(event) "))
        }
        // `journalctl -x` shows where to read more: every entry names the manual page.
        let entries = catalog.components(separatedBy: "\n-- ").dropFirst()
        #expect(entries.count == JournalMessageID.byEvent.count)
        for entry in entries {
            #expect(entry.contains("\nDocumentation: man:wbkeyd(1)\n"), "\(entry.prefix(40))")
        }
    }

    @Test func theSinkIsTheJournalOnlyWhenStderrIsTheNamedStream() {
        var status = stat()
        fstat(STDERR_FILENO, &status)
        #expect(LogSink.detect(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]) == .journal)
        #expect(LogSink.detect(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]) == .stderr)
        #expect(LogSink.detect(environment: ["JOURNAL_STREAM": "garbage"]) == .stderr)
        #expect(LogSink.detect(environment: [:]) == .stderr)
    }

    @Test func stderrLinesAreOneLineWithMetadata() {
        let line = StderrLogHandler.line(
            at: Date(timeIntervalSince1970: 0), level: .info, label: "wbkeyd", message: "two\nlines",
            metadata: ["event": "key_gone", "user": "u-1"])
        #expect(line == "1970-01-01T00:00:00.000Z info wbkeyd: key_gone: two lines user=u-1")
    }
}

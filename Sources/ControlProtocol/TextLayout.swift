import Foundation

/// Aligned text and JSON documents for the renderer.
extension ReplyRenderer {
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func keyValues(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { ($0.0 + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + $0.1 }
            .joined(separator: "\n") + "\n"
    }

    /// One JSON document on one line; `nil`/`Any?` values become JSON null.
    static func document(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: nullified(object), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func nullified(_ value: Any) -> Any {
        switch value {
        case let dictionary as [String: Any]: return dictionary.mapValues(nullified)
        case let array as [Any]: return array.map(nullified)
        default:
            // `x as Any` of an Optional stays an Optional inside Any; unwrap it.
            let mirror = Mirror(reflecting: value)
            guard mirror.displayStyle == .optional else { return value }
            return mirror.children.first.map { nullified($0.value) } ?? NSNull()
        }
    }

    /// RFC 3339 UTC, whole seconds.
    static func timestamp(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted)) }
    }

    /// 3h59m, 12m30s, 45s, 2d3h.
    static func span(seconds total: Int) -> String {
        let days = total / 86_400, hours = total % 86_400 / 3_600, minutes = total % 3_600 / 60, seconds = total % 60
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(seconds)s" }
        return "\(seconds)s"
    }
}

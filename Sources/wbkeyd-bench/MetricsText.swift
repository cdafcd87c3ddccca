/// Samples read back from wbkeyd's `metrics` text.
enum MetricsText {
    /// The value of the sample line `name VALUE` (no labels); 0 when absent.
    static func value(_ name: String, in text: String) -> Int {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }
}

/// wbkeyd's duration syntax: a whole number and one unit, `500ms`, `30s`, `10m`, `4h`, `400d`.
public enum DurationText {
    private static let units: [(suffix: String, milliseconds: Int)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// The duration in milliseconds, or nil when the text is not in the syntax.
    public static func milliseconds(_ text: String) -> Int? {
        // "ms" before "m" and "s": the longest suffix decides.
        for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                let count = Int(digits)
            else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
            return overflow ? nil : product
        }
        return nil
    }
}

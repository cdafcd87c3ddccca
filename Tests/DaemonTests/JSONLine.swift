import Foundation

extension String {
    /// The line as a JSON object (events lines).
    var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(utf8))) as? [String: Any]
    }
}

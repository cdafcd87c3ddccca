import JSONString
import Foundation
import Sensitive

/// The JSON of a spool file, built from its fields and checked by the same rules the
/// daemon applies, so `wbkeyctl submit` refuses a bad request before writing it.
/// The age of `received_at` is not checked: only the daemon knows `max_code_age`.
public enum SpoolSubmission {
    public static func authorization(
        user: String, code: Sensitive, codeVerifier: Sensitive? = nil, state: Sensitive? = nil,
        receivedAt: Date? = nil, apiKey: String? = nil
    ) throws(SpoolRejection) -> [UInt8] {
        var fields: [(SpoolField, String)] = [(.type, "authorization"), (.user, user), (.code, code.revealed)]
        if let codeVerifier { fields.append((.codeVerifier, codeVerifier.revealed)) }
        if let state { fields.append((.state, state.revealed)) }
        if let receivedAt { fields.append((.receivedAt, RFC3339.format(receivedAt))) }
        if let apiKey { fields.append((.apiKey, apiKey)) }
        return try checked(encode(fields))
    }

    public static func revocation(user: String, reason: String? = nil) throws(SpoolRejection) -> [UInt8] {
        var fields: [(SpoolField, String)] = [(.type, "revocation"), (.user, user)]
        if let reason { fields.append((.reason, reason)) }
        return try checked(encode(fields))
    }

    private static func checked(_ json: [UInt8]) throws(SpoolRejection) -> [UInt8] {
        _ = try SpoolParser.decode(json, fileModified: Date())
        return json
    }

    /// One line of JSON, newline-terminated, fields in the order given.
    static func encode(_ fields: [(SpoolField, String)]) -> [UInt8] {
        let members = fields.map { "\(JSONString.quoted($0.0.rawValue)):\(JSONString.quoted($0.1))" }
        return Array(("{" + members.joined(separator: ",") + "}\n").utf8)
    }

}

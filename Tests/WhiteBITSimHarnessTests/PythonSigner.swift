import Foundation
import WhiteBITSimHarness

/// Signs and sends a private V4 request with python3's hmac, hashlib, base64, json and
/// http.client: an implementation of the API doc's recipe that shares nothing with the
/// simulator's verifier or the client's signer. It can bind a source address (127.0.0.2 …)
/// and tamper with what it sends after signing.
struct PythonSigner {
    let sim: SimProcess

    struct Sent {
        let status: Int
        let body: String
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
        var message: String? { json?["message"] as? String }
    }

    enum Tamper: String {
        case none
        /// Sign with `separators=(', ', ': ')`: a valid signature over non-compact JSON.
        case spaced
        /// Send another body than the one encoded in X-TXC-PAYLOAD.
        case bodyChanged = "body_changed"
        /// Re-encode a changed body into X-TXC-PAYLOAD but keep the old signature.
        case payloadChanged = "payload_changed"
    }

    static let script = #"""
        import base64, hashlib, hmac, http.client, json, sys
        a = json.loads(sys.argv[1])
        fields = {"request": a["path"], "nonce": a["nonce"]}
        if a.get("window") is not None:
            fields["nonceWindow"] = a["window"]
        fields.update(a["fields"])
        seps = (", ", ": ") if a["tamper"] == "spaced" else (",", ":")
        body = json.dumps(fields, separators=seps)
        payload = base64.b64encode(body.encode()).decode()
        signature = hmac.new(a["secret"].encode(), payload.encode(), hashlib.sha512).hexdigest()
        changed = json.dumps(dict(fields, nonce=a["nonce"] + 1), separators=(",", ":"))
        if a["tamper"] == "body_changed":
            body = changed
        if a["tamper"] == "payload_changed":
            body = changed
            payload = base64.b64encode(body.encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", a["port"], timeout=30, source_address=(a["source"], 0))
        connection.request("POST", a["path"], body=body.encode(), headers={
            "Content-Type": "application/json", "X-TXC-APIKEY": a["key"],
            "X-TXC-PAYLOAD": payload, "X-TXC-SIGNATURE": signature})
        response = connection.getresponse()
        print(json.dumps({"status": response.status, "body": response.read().decode()}))
        """#

    func send(
        _ path: String, key: String, secret: String, nonce: Int, fields: [String: Any] = [:], window: Bool? = nil,
        tamper: Tamper = .none, source: String = "127.0.0.1"
    ) throws -> Sent {
        var arguments: [String: Any] = [
            "path": path, "key": key, "secret": secret, "nonce": nonce, "fields": fields, "tamper": tamper.rawValue,
            "port": sim.port, "source": source,
        ]
        if let window { arguments["window"] = window }
        let argument = String(decoding: try JSONSerialization.data(withJSONObject: arguments), as: UTF8.self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, argument]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let status = answer["status"] as? Int, let body = answer["body"] as? String
        else { throw PartnerError.unexpected("python3 signer failed (\(process.terminationStatus))") }
        return Sent(status: status, body: body)
    }
}

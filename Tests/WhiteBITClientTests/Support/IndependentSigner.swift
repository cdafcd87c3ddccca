import Foundation

/// The V4 signature of docs/whitebit-api.md §5.2 computed outside Swift, from the docs
/// alone: Python's hmac, hashlib, base64 and json.dumps(separators=(',',':')), and
/// `openssl dgst -sha512 -hmac`. The secret goes in on stdin, never on a command line
/// the test output could show.
enum IndependentSigner {
    struct Signed: Decodable, Equatable {
        let body: String
        let payload: String
        let signature: String
    }

    /// `request`, `nonce`, `nonceWindow` when asked for, then the parameters with their
    /// keys sorted at every depth: the body layout wbkeyd documents.
    private static let program = """
        import base64, hashlib, hmac, json, sys
        def canon(v):
            if isinstance(v, dict):
                return {k: canon(v[k]) for k in sorted(v)}
            if isinstance(v, list):
                return [canon(x) for x in v]
            return v
        given = json.load(sys.stdin)
        body = {"request": given["path"], "nonce": given["nonce"]}
        if given["window"]:
            body["nonceWindow"] = True
        body.update(canon(given["params"]))
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        signature = hmac.new(given["secret"].encode("utf-8"), payload.encode("ascii"), hashlib.sha512).hexdigest()
        sys.stdout.write(json.dumps({"body": text, "payload": payload, "signature": signature}))
        """

    static func python(path: String, nonce: Int64, window: Bool, parametersJSON: String, secret: String) throws -> Signed {
        let input = """
            {"path":\(quoted(path)),"nonce":\(nonce),"window":\(window),"params":\(parametersJSON),"secret":\(quoted(secret))}
            """
        let output = try run(["python3", "-c", program], stdin: Data(input.utf8))
        return try JSONDecoder().decode(Signed.self, from: output)
    }

    /// `printf %s PAYLOAD | openssl dgst -sha512 -hmac SECRET`, the secret read by the
    /// shell from stdin's first line so it is not in any argument list.
    static func openssl(payload: String, secret: String) throws -> String {
        let script = #"IFS= read -r key; printf %s "$1" | openssl dgst -sha512 -hmac "$key""#
        let output = try run(["sh", "-c", script, "sh", payload], stdin: Data((secret + "\n").utf8))
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let hex = text.split(separator: "=").last else { return text }
        return hex.trimmingCharacters(in: .whitespaces)
    }

    private static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    private static func run(_ arguments: [String], stdin: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ProcessFailed(program: arguments[0], status: process.terminationStatus)
        }
        return data
    }

    struct ProcessFailed: Error, CustomStringConvertible {
        let program: String
        let status: Int32
        var description: String { "\(program) exited with status \(status)" }
    }
}

import Foundation

extension SimulatedWhiteBIT {
    /// `POST /api/v4/accounts/…` (`docs/whitebit-api.md` §4): the classic Bearer reads of the
    /// token's user, for a token that holds the endpoint's scope (else 401 `Unauthorized.`,
    /// as the OAuth endpoints answer). With `accounts_body=request_nonce` the body must also
    /// carry `request` (this path) and `nonce`, as a signed body does.
    public func accountRead(path: String, authorization: String?, body bytes: [UInt8]) -> SimAnswer {
        let moment = now
        guard let endpoint = AccountEndpoint(bearerPath: path) else { return .message(404, "Not found.") }
        guard let token = authorizedToken(authorization, scope: endpoint.bearerScope) else { return .unauthorized }
        var fields: [String: JSONValue] = [:]
        if !bytes.isEmpty {
            guard let parsed = (try? JSONValue.decode(Data(bytes)))?.objectValue else {
                return SignedRefusal.spacedOrNotJSON.answer
            }
            fields = parsed
        }
        if settings.accountsBody == .signed {
            guard let request = fields["request"]?.stringValue, !request.isEmpty else { return SignedRefusal.requestMissing.answer }
            guard request == path else { return SignedRefusal.requestMismatch.answer }
            guard let nonce = fields["nonce"], !nonce.isNull else { return SignedRefusal.nonceMissing.answer }
            guard nonce.intValue ?? nonce.stringValue.flatMap({ Int($0) }) != nil else {
                return SignedRefusal.nonceNotInteger.answer
            }
        } else {
            // Without the switch, request/nonce are tolerated (a signed-style body still works).
            for name in AccountQuery.authFields { fields[name] = nil }
        }
        switch AccountQuery.answer(endpoint, body: fields, data: AccountData(user: token.user, now: moment), now: moment) {
        case .failure(let failure): return SignedRefusal.invalid(failure).answer
        case .success(let value): return .json(200, value)
        }
    }
}

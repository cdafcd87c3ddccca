import Foundation
import PKCE
import Sensitive

extension SimulatedWhiteBIT {
    /// `POST /oauth2/token` with its form fields. Validation (422) and client authentication
    /// (401) come first and leave the code alone; from then on the code is spent by this
    /// attempt, whatever its outcome (RFC 6749 §4.1.2).
    public func exchangeCode(form: [String: String]) -> SimAnswer {
        func present(_ name: String) -> String? {
            guard let value = form[name], !value.isEmpty else { return nil }
            return value
        }
        let presentedCode = present("code").map(Sensitive.init)
        let knownCode = presentedCode.flatMap { codes[$0] }

        var errors: [String: String] = [:]
        for field in ["client_id", "client_secret", "code"] where present(field) == nil {
            errors[field] = "validation.required"
        }
        // The verifier is optional only for a code known to have been issued without PKCE.
        if present("code_verifier") == nil, knownCode?.challenge != nil || knownCode == nil {
            errors["code_verifier"] = "validation.required"
        }
        switch settings.grantType {
        case .ignored: break
        case .required:
            if let grantType = present("grant_type") {
                if grantType != "authorization_code" { errors["grant_type"] = "validation.in" }
            } else {
                errors["grant_type"] = "validation.required"
            }
        case .rejected:
            if form["grant_type"] != nil { errors["grant_type"] = "validation.prohibited" }
        }
        if settings.tokenRedirectURI == .required {
            if let redirectURI = present("redirect_uri") {
                if let knownCode, knownCode.redirectURI != redirectURI { errors["redirect_uri"] = "validation.in" }
            } else {
                errors["redirect_uri"] = "validation.required"
            }
        }
        guard errors.isEmpty, let clientID = present("client_id"), let secret = present("client_secret") else {
            return .validation(errors)
        }

        guard let client = clients[clientID], client.secret.constantTimeEquals(Sensitive(secret)) else {
            return .invalidClient
        }
        guard var code = knownCode, code.clientID == client.id, !code.used else { return refusedGrant }
        code.used = true
        codes[code.value] = code
        guard now < code.expiresAt else { return refusedGrant }
        if let challenge = code.challenge {
            let verifier = Sensitive(form["code_verifier"] ?? "")
            guard PKCE.isValidVerifier(verifier), PKCE.challenge(for: verifier) == challenge else {
                return refusedGrant
            }
        }
        let token = AccessToken(
            value: random.opaqueSecret(bytes: 48), user: code.user, clientID: client.id,
            scopes: settings.grantedScopes ?? client.scopes,
            expiresAt: Self.addingMilliseconds(settings.tokenLifetimeMilliseconds, to: now))
        tokens[token.value] = token
        tokenOrder.append(token.value)
        return tokenAnswer(token)
    }

    /// The refusal of a code or verifier, in the style the `token_error` switch picks.
    var refusedGrant: SimAnswer {
        switch settings.tokenError {
        case .unauthorized: .invalidClient
        case .badRequest: .message(400, "Invalid grant.")
        case .unprocessable: .validation(["code": "validation.invalid"])
        }
    }

    private func tokenAnswer(_ token: AccessToken) -> SimAnswer {
        let lifetimeSeconds = settings.tokenLifetimeMilliseconds / 1000
        var fields: [String: JSONValue] = [
            "access_token": .string(token.value.revealed),
            "scope": .string(token.scopes.joined(separator: ",")),
            "token_type": "Bearer",
        ]
        switch settings.expiresIn {
        case .number: fields["expires_in"] = .integer(lifetimeSeconds)
        case .string: fields["expires_in"] = .string(String(lifetimeSeconds))
        case .absent: break
        }
        switch settings.refreshToken {
        case .absent: break
        case .null: fields["refresh_token"] = .null
        case .empty: fields["refresh_token"] = ""
        // Nothing accepts it back: the Fast API Key flow has no refresh.
        case .present: fields["refresh_token"] = .string(random.opaqueSecret(bytes: 48).revealed)
        }
        switch settings.tokenWrapper {
        case .data: return .json(200, ["data": .object(fields)])
        case .bare: return .json(200, .object(fields))
        }
    }
}

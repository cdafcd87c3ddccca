import GrantLifecycle
import Sensitive
import Store
import WhiteBITClient

/// One signed read with a grant's key (docs/design.md §12): the main-account balance,
/// the smallest read every key that may read anything can make. Its answer is dropped;
/// only whether WhiteBIT accepted the pair, and under which identity, is kept.
extension GrantEngine {
    func checkKey(_ stored: StoredGrant, externalID: String, identity: KeyIdentity?) async -> KeyCheckReport {
        let user = stored.grant.user
        guard let sealed = stored.sealedSecret, stored.secretExternalID == externalID else {
            return KeyCheckReport(externalID: externalID, outcome: .failed, message: "no sealed secret for this key")
        }
        let secret: Sensitive
        do {
            secret = try sealer.open(sealed, binding: SealBinding(kind: .apiSecret, user: user, externalID: externalID))
        } catch {
            logger.error("the sealed secret cannot be opened", metadata: ["user": "\(user)", "external_id": "\(externalID)"])
            return KeyCheckReport(externalID: externalID, outcome: .failed, message: "the sealed secret cannot be opened")
        }
        var lastGone: WhiteBITError?
        for reading in Self.readings(identity, apiKey: stored.grant.apiKey, externalID: externalID) {
            let keyValue = reading == .apiKey ? stored.grant.apiKey ?? externalID : externalID
            // nonceWindow, as for every signed request wbkeyd makes: a partner's request signed
            // a moment earlier and still on its way must not fail for this one, nor this one for it.
            do {
                _ = try await client.accountRead(
                    .mainBalance, credentials: V4Credentials(apiKey: keyValue, secret: secret), nonces: nonces, nonceWindow: true)
                return KeyCheckReport(externalID: externalID, outcome: .ok, identity: reading)
            } catch {
                switch error.verdict {
                case .keyGone:
                    // Under this reading WhiteBIT does not know the key; the other may work.
                    lastGone = error
                    continue
                case .keyDisabled:
                    return KeyCheckReport(externalID: externalID, outcome: .disabled, identity: reading, message: error.description)
                case .refused where error.kind == .endpointNotPermitted:
                    // The pair authenticated; the key may just not read balances.
                    return KeyCheckReport(externalID: externalID, outcome: .ok, identity: reading, message: error.description)
                case .transient, .refused, .tokenRejected:
                    logFailure(error)
                    return KeyCheckReport(externalID: externalID, outcome: .failed, message: error.description)
                }
            }
        }
        return KeyCheckReport(externalID: externalID, outcome: .gone, message: lastGone?.description)
    }

    /// The readings of docs/whitebit-api.md §3.6 to try: the proven one alone, else
    /// externalId (the `stage` reading) and then a callback's distinct `api_key`.
    static func readings(_ proven: KeyIdentity?, apiKey: String?, externalID: String) -> [KeyIdentity] {
        if let proven { return [proven] }
        guard let apiKey, apiKey != externalID else { return [.externalID] }
        return [.externalID, .apiKey]
    }
}

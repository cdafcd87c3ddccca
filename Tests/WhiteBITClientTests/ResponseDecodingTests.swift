import Testing
@testable import WhiteBITClient

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct AccessTokenDecodingTests {
    @Test func theDocumentedDataWrappedShape() throws {
        let token = try ResponseDecoding.accessToken(bytes("""
            {"data":{"access_token":"MZM1MDBM","expires_in":300,"refresh_token":"ODK5ZTVK",
             "scope":"codes.apply,show.userinfo","token_type":"Bearer"}}
            """))
        #expect(token.value.revealed == "MZM1MDBM")
        #expect(token.expiresIn == .seconds(300))
        #expect(token.scopes == ["codes.apply", "show.userinfo"])
    }

    @Test func theBareRFC6749ShapeWithSpaceSeparatedScopes() throws {
        let token = try ResponseDecoding.accessToken(bytes("""
            {"access_token":"T1","expires_in":14400,"token_type":"Bearer","scope":"apikeys.read apikeys.delete"}
            """))
        #expect(token.value.revealed == "T1")
        #expect(token.expiresIn == .seconds(14400))
        #expect(token.scopes == ["apikeys.read", "apikeys.delete"])
    }

    @Test(arguments: [
        (#""expires_in":14400"#, Duration?.some(.seconds(14400))),
        (#""expires_in":"14400""#, .some(.seconds(14400))),
        (#""expires_in":" 300 ""#, .some(.seconds(300))),
        (#""expires_in":299.5"#, .some(.milliseconds(299_500))),
        (#""expires_in":null"#, nil),
        (#""unrelated":1"#, nil),
    ])
    func expiresInAsNumberNumericStringNullOrAbsent(field: String, expected: Duration?) throws {
        for wrapped in [true, false] {
            let fields = #""access_token":"T",\#(field)"#
            let body = wrapped ? #"{"data":{\#(fields)}}"# : "{\(fields)}"
            #expect(try ResponseDecoding.accessToken(bytes(body)).expiresIn == expected)
        }
    }

    @Test(arguments: [
        #""refresh_token":"R-1","#, #""refresh_token":null,"#, #""refresh_token":"","#, "",
    ])
    func anyRefreshTokenVariantIsAcceptedAndDropped(field: String) throws {
        let token = try ResponseDecoding.accessToken(bytes(#"{"data":{\#(field)"access_token":"T","expires_in":14400}}"#))
        #expect(token.value.revealed == "T")
        #expect(!String(describing: token).contains("R-1"))
    }

    @Test func scopeVariants() throws {
        let cases: [(String, [String])] = [
            (#""scope":"apikeys.create,apikeys.read,apikeys.delete""#, ["apikeys.create", "apikeys.read", "apikeys.delete"]),
            (#""scope":"a, b""#, ["a", "b"]),
            (#""scope":["a","b"]"#, ["a", "b"]),
            (#""scope":"""#, []),
            (#""scope":null"#, []),
            (#""x":0"#, []),
        ]
        for (field, scopes) in cases {
            let token = try ResponseDecoding.accessToken(bytes(#"{"data":{"access_token":"T",\#(field)}}"#))
            #expect(token.scopes == scopes, "for \(field)")
        }
    }

    @Test(arguments: [
        ("not json", "body is not JSON"),
        ("", "body is not JSON"),
        (#"{"data":{"message":["Invalid request"]}}"#, "no access_token"),
        (#"{"data":[]}"#, "no access_token"),
        (#"{"data":{"access_token":""}}"#, "access_token is not a non-empty string"),
        (#"{"data":{"access_token":42}}"#, "access_token is not a non-empty string"),
        (#"{"data":{"access_token":"T","expires_in":"soon"}}"#, "expires_in is a string that is not a number"),
        (#"{"data":{"access_token":"T","expires_in":-5}}"#, "expires_in is not a plausible"),
        (#"{"data":{"access_token":"T","expires_in":0}}"#, "expires_in is not a plausible"),
        (#"{"data":{"access_token":"T","expires_in":1e300}}"#, "expires_in is not a plausible"),
        (#"{"data":{"access_token":"T","expires_in":true}}"#, "expires_in is neither"),
        (#"{"data":{"access_token":"T","scope":7}}"#, "scope is neither"),
    ])
    func malformedBodiesAreRefusedWithAReason(body: String, reason: String) {
        #expect {
            _ = try ResponseDecoding.accessToken(bytes(body))
        } throws: { error in
            (error as? MalformedBody)?.reason.hasPrefix(reason) == true
        }
    }

    @Test func theReasonNeverQuotesTheBody() {
        let body = #"{"data":{"access_token":"TOKEN-SECRET-1","expires_in":"CODE-SECRET-2","scope":"x"}}"#
        do {
            _ = try ResponseDecoding.accessToken(bytes(body))
            Issue.record("expected a malformed body")
        } catch {
            let quoted = error.reason.contains("SECRET")
            #expect(!quoted, "the reason quotes the body")
        }
    }
}

@Suite struct APIKeyInfoDecodingTests {
    @Test func theDocumentedExample() throws {
        let info = try ResponseDecoding.apiKeyInfo(bytes("""
            {"data":{"exists":true,"isEnabled":true,"externalId":"550e8400-e29b-41d4-a716-446655440000",
             "permissions":[{"name":"trading","title":"Trading","urls":[{"url":"/v2/order","enable":true}]}]}}
            """))
        #expect(info == APIKeyInfo(
            exists: true, isEnabled: true, externalID: "550e8400-e29b-41d4-a716-446655440000",
            permissions: [Permission(name: "trading", title: "Trading", urls: [PermittedURL(url: "/v2/order", enable: true)])]
        ))
    }

    @Test func noKeyIsAnAnswerNotAnError() throws {
        let info = try ResponseDecoding.apiKeyInfo(bytes(
            #"{"data":{"exists":false,"isEnabled":false,"externalId":null,"permissions":[]}}"#))
        #expect(info == APIKeyInfo(exists: false, isEnabled: false, externalID: nil, permissions: []))
        let withoutID = try ResponseDecoding.apiKeyInfo(bytes(#"{"data":{"exists":false,"isEnabled":false}}"#))
        #expect(withoutID.externalID == nil)
    }

    @Test func aDisabledKeyKeepsItsPermissionsAndAllDisabledGroupsAreKept() throws {
        let info = try ResponseDecoding.apiKeyInfo(bytes("""
            {"data":{"exists":true,"isEnabled":false,"externalId":"k-1","permissions":[
              {"name":"read","title":"Read","urls":[{"url":"/api/v4/trade-account/balance","enable":false}]},
              {"name":"withdrawal","title":"Withdrawal","urls":[]}]}}
            """))
        #expect(info.exists && !info.isEnabled)
        #expect(info.permissions.map(\.name) == ["read", "withdrawal"])
        #expect(info.permissions[0].urls == [PermittedURL(url: "/api/v4/trade-account/balance", enable: false)])
    }

    @Test func responsesOlderThanThePermissionsArrayStillDecode() throws {
        let info = try ResponseDecoding.apiKeyInfo(bytes(#"{"data":{"exists":true,"isEnabled":true,"externalId":"k-1"}}"#))
        #expect(info.permissions.isEmpty)
        #expect(info.externalID == "k-1")
    }

    @Test func looseVariantsOfPermissionsAndBooleans() throws {
        let info = try ResponseDecoding.apiKeyInfo(bytes("""
            {"data":{"exists":1,"isEnabled":0,"externalId":"k-1","permissions":[{"name":"read"},{"name":"spot","urls":null}]}}
            """))
        #expect(info.exists && !info.isEnabled)
        #expect(info.permissions == [Permission(name: "read", title: "read", urls: []), Permission(name: "spot", title: "spot", urls: [])])
    }

    @Test(arguments: [
        ("[]", "no data object"),
        (#"{"data":[]}"#, "no data object"),
        (#"{"data":{"isEnabled":true}}"#, "data.exists is not a boolean"),
        (#"{"data":{"exists":"yes","isEnabled":true}}"#, "data.exists is not a boolean"),
        (#"{"data":{"exists":true}}"#, "data.isEnabled is not a boolean"),
        (#"{"data":{"exists":true,"isEnabled":true}}"#, "data.exists is true but data.externalId is missing"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":""}}"#, "data.externalId is neither"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":5}}"#, "data.externalId is neither"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":"k","permissions":{}}}"#, "data.permissions is not a list"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":"k","permissions":[{"title":"x"}]}}"#, "a permission has no name"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":"k","permissions":[{"name":"x","urls":[{"url":"/a"}]}]}}"#,
         "a permission url lacks"),
        (#"{"data":{"exists":true,"isEnabled":true,"externalId":"k","permissions":[{"name":"x","urls":"all"}]}}"#,
         "a permission's urls is not a list"),
    ])
    func malformedInfoBodies(body: String, reason: String) {
        #expect {
            _ = try ResponseDecoding.apiKeyInfo(bytes(body))
        } throws: { error in
            (error as? MalformedBody)?.reason == reason || (error as? MalformedBody)?.reason.hasPrefix(reason) == true
        }
    }
}

@Suite struct APISecretDecodingTests {
    @Test func theDocumentedShape() throws {
        #expect(try ResponseDecoding.apiSecret(bytes(#"{"data":{"apiSecret":"S-1"}}"#)).revealed == "S-1")
    }

    @Test(arguments: [#"{"data":{}}"#, #"{"data":{"apiSecret":""}}"#, #"{"data":{"apiSecret":1}}"#, #"{"apiSecret":"S"}"#, "<html>"])
    func malformedSecretBodies(body: String) {
        #expect(throws: MalformedBody.self) { _ = try ResponseDecoding.apiSecret(bytes(body)) }
    }
}

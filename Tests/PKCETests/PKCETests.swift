import PKCE
import Sensitive
import Testing

@Suite struct PKCETests {
    @Test func rfc7636AppendixBVector() {
        let verifier = Sensitive("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(PKCE.challenge(for: verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(PKCE.isValidVerifier(verifier))
        #expect(PKCEPair(verifier: verifier).challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func base64URLMatchesRFC4648VectorsWithoutPadding() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (input, expected) in vectors {
            #expect(PKCE.base64URL(Array(input.utf8)) == expected)
        }
        // 0xFB 0xFF is "+/8=" in standard base64: the URL alphabet swaps in "-" and "_".
        #expect(PKCE.base64URL([0xFB, 0xFF]) == "-_8")
    }

    @Test func generatedVerifiersHaveTheRFCSyntax() {
        for length in [43, 64, 128] {
            let verifier = PKCE.makeVerifier(length: length)
            #expect(verifier.revealed.utf8.count == length)
            #expect(PKCE.isValidVerifier(verifier))
        }
        #expect(PKCE.makeVerifier().revealed.utf8.count == PKCE.defaultVerifierLength)
    }

    @Test func generatedVerifiersDiffer() {
        let verifiers = Set((0..<50).map { _ in PKCE.makeVerifier().revealed })
        #expect(verifiers.count == 50)
    }

    @Test func verifiersUseTheWholeAlphabet() {
        // 64 × 200 draws from 66 symbols: missing one by chance has probability ~1e-84.
        var seen = Set<UInt8>()
        for _ in 0..<200 { seen.formUnion(PKCE.makeVerifier().revealed.utf8) }
        #expect(seen == Set(PKCE.unreservedAlphabet))
    }

    @Test func verifierSyntaxIsChecked() {
        let ok = String(repeating: "a", count: 43)
        #expect(PKCE.isValidVerifier(Sensitive(ok)))
        #expect(PKCE.isValidVerifier(Sensitive(String(repeating: "~._-", count: 32))))
        #expect(!PKCE.isValidVerifier(Sensitive(String(repeating: "a", count: 42))))
        #expect(!PKCE.isValidVerifier(Sensitive(String(repeating: "a", count: 129))))
        #expect(!PKCE.isValidVerifier(Sensitive(ok + "+")))
        #expect(!PKCE.isValidVerifier(Sensitive(ok + "=")))
        #expect(!PKCE.isValidVerifier(Sensitive(ok + " ")))
        #expect(!PKCE.isValidVerifier(Sensitive(String(repeating: "é", count: 43))))
        #expect(!PKCE.isValidVerifier(Sensitive("")))
    }

    @Test func challengeSyntaxIsChecked() {
        #expect(PKCE.isValidChallenge(PKCEPair.generate().challenge))
        #expect(!PKCE.isValidChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="))
        #expect(!PKCE.isValidChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"))
        #expect(!PKCE.isValidChallenge("short"))
    }

    @Test func stateIs32RandomBytesInBase64URL() {
        let state = PKCE.makeState()
        #expect(state.utf8.count == 43)
        #expect(PKCE.isValidChallenge(state))  // same shape: 43 base64url characters
        #expect(PKCE.makeState() != state)
    }

    @Test func seededGeneratorIsDeterministic() {
        var first = CountingGenerator()
        var second = CountingGenerator()
        let sameVerifier = PKCE.makeVerifier(using: &first).revealed == PKCE.makeVerifier(using: &second).revealed
        #expect(sameVerifier)
        #expect(PKCE.makeState(using: &first) == PKCE.makeState(using: &second))
    }

    @Test func verifierNeverPrints() {
        let pair = PKCEPair.generate()
        #expect("\(pair)".contains(pair.verifier.revealed) == false)
        #expect(pair.method == "S256")
    }
}

/// A predictable generator: the same sequence every time.
private struct CountingGenerator: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

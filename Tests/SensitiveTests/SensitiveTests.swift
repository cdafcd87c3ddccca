import Foundation
import Sensitive
import Testing

@Suite struct SensitiveTests {
    let secret = Sensitive("tok-4f1c9a-SECRET")

    @Test func everyPrintingPathRedacts() {
        var dumped = ""
        dump(secret, to: &dumped)
        let renderings = [
            "\(secret)", String(describing: secret), String(reflecting: secret), dumped,
            "\([secret])", "\(Optional(secret) as Any)", "\(Mirror(reflecting: secret).children.map { $0.value })",
        ]
        for rendering in renderings {
            #expect(!rendering.contains("SECRET"), "leaked through: \(rendering.replacingOccurrences(of: "SECRET", with: "S…"))")
            #expect(!rendering.contains("4f1c9a"))
        }
    }

    @Test func revealedGivesTheClearText() {
        #expect(secret.revealed == "tok-4f1c9a-SECRET")
    }

    @Test func constantTimeEqualsComparesContent() {
        #expect(secret.constantTimeEquals(Sensitive("tok-4f1c9a-SECRET")))
        #expect(!secret.constantTimeEquals(Sensitive("tok-4f1c9a-SECRE")))
        #expect(!secret.constantTimeEquals(Sensitive("tok-4f1c9a-SECRET!")))
        #expect(!secret.constantTimeEquals(Sensitive("Tok-4f1c9a-SECRET")))
        #expect(Sensitive("").constantTimeEquals(Sensitive("")))
    }
}

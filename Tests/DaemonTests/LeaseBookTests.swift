import Store
import Testing
@testable import Daemon

/// What the engine remembers of its leases, in process and without a clock: which epoch a
/// decision is made under, when a call may start, and what a lapsed renewal forgets.
@Suite struct LeaseBookTests {
    let start = ContinuousClock.now

    @Test func noCallStartsBeforeTheFirstRenewalNorOnceTooLittleOfTheLeaseIsLeft() {
        var book = LeaseBook(instance: "alpha", term: .seconds(30))
        #expect(!book.allowsCall(at: start, lasting: .seconds(12)), "no lease yet")
        book.renewed(sent: start, owned: nil)
        #expect(book.allowsCall(at: start + .seconds(17), lasting: .seconds(12)))
        #expect(!book.allowsCall(at: start + .seconds(18), lasting: .seconds(12)), "12 s left: the call could outlast the lease")
        #expect(!book.allowsCall(at: start + .seconds(40), lasting: .seconds(12)), "a pause past the lease")
        // The lease counts from when the renewal was sent, not when its answer came.
        book.renewed(sent: start + .seconds(40), owned: nil)
        #expect(book.allowsCall(at: start + .seconds(57), lasting: .seconds(12)))
    }

    @Test func aDecisionIsMadeUnderTheEpochHeldAndAFreeGrantIsClaimed() {
        var book = LeaseBook(instance: "alpha", term: .seconds(30))
        #expect(book.check(for: "u1").held == nil)
        book.hold("u1", epoch: 4)
        #expect(book.check(for: "u1").held == 4 && book.check(for: "u1").instance == "alpha")
        book.drop("u1")
        #expect(book.check(for: "u1").held == nil)
    }

    @Test func aLapsedRenewalForgetsTheGrantsTakenOrReclaimedMeanwhileAndOnlyThose() {
        var book = LeaseBook(instance: "alpha", term: .seconds(30))
        book.hold("kept", epoch: 1)
        book.hold("taken", epoch: 1)
        book.hold("retaken", epoch: 1)
        // "taken" is another's now; "retaken" was taken and handed back (a higher epoch).
        let lost = book.renewed(sent: start, owned: ["kept": 1, "retaken": 3])
        #expect(lost == ["retaken", "taken"])
        #expect(book.held == ["kept": 1])
        #expect(book.renewed(sent: start, owned: nil).isEmpty, "a renewal in time forgets nothing")
    }
}

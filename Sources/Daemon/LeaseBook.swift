import Store

/// The grants this instance holds and their fencing epochs, and until when its lease
/// lasts by this host's monotonic clock (docs/design.md §13). The store decides who holds
/// a grant, in the same commit as each decision; this is what the engine remembers of it,
/// so that it can say which epoch it acts under and whether a WhiteBIT call may start.
///
/// Pure: instants come from the caller, so it is tested without a clock.
struct LeaseBook {
    let instance: String
    /// The lease as the store sets it at each renewal.
    let term: Duration
    private(set) var held: [String: Int64] = [:]
    /// The lease's end as this host counts it: the instant the renewal was sent plus the
    /// term. The server set its end later than that (it ran the statement after it was
    /// sent), so this end comes first, whatever the two clocks say of the time of day.
    private(set) var validUntil: ContinuousClock.Instant?

    init(instance: String, term: Duration) {
        self.instance = instance
        self.term = term
    }

    func check(for user: String) -> LeaseCheck { LeaseCheck(instance: instance, held: held[user]) }

    mutating func hold(_ user: String, epoch: Int64) { held[user] = epoch }

    mutating func drop(_ user: String) { held[user] = nil }

    /// A renewal sent at `sent` came back. After a lapse, `owned` is what the store says
    /// this instance still holds: any other grant was claimed by another instance meanwhile,
    /// and is forgotten (its next decision here claims it again if it is free, or is
    /// refused). Answers the grants forgotten.
    @discardableResult
    mutating func renewed(sent: ContinuousClock.Instant, owned: [String: Int64]?) -> [String] {
        validUntil = sent + term
        guard let owned else { return [] }
        let lost = held.filter { owned[$0.key] != $0.value }.map(\.key).sorted()
        for user in lost { held[user] = nil }
        return lost
    }

    /// Whether a call that may take `lasting` can start at `now` and end inside the lease.
    func allowsCall(at now: ContinuousClock.Instant, lasting: Duration) -> Bool {
        guard let validUntil else { return false }
        return validUntil - now > lasting
    }
}

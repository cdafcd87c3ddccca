import Foundation
import Logging
import Sensitive
import Spool
import Store

/// The spool stage (docs/design.md §4): claim, validate, commit, then delete, like
/// Postfix's pickup. A refused file goes to `rejected/` with its reason after the
/// refusal is audited; an accepted one is deleted only after its grant committed.
/// Anything that fails in between stays in `claimed/` and is taken again at start.
actor SpoolIntake {
    let spool: SpoolDirectory
    let engine: GrantEngine
    /// Kept up to date here, read by `status` without waiting for this actor.
    let census: SpoolCensus
    let logger: Logger
    var maxCodeAge: Duration
    /// Files examined at once; the group committer turns them into few transactions.
    let parallelism: Int
    private var scanning = false
    private var rescanWanted = false
    private var recountFailing = false
    /// Entries of new/ (by `WaitingFile.identity`) reported as impossible to claim.
    private var reportedStuck: Set<String> = []
    private var retries: [ClaimedFile] = []

    init(
        spool: SpoolDirectory, engine: GrantEngine, census: SpoolCensus, maxCodeAge: Duration, logger: Logger, parallelism: Int = 32
    ) {
        self.spool = spool
        self.engine = engine
        self.census = census
        self.maxCodeAge = maxCodeAge
        self.logger = logger
        self.parallelism = parallelism
    }

    func setMaxCodeAge(_ age: Duration) {
        maxCodeAge = age
    }

    /// Files a previous run claimed but did not finish.
    func recover() async {
        do {
            let claimed = try spool.listClaimed()
            if !claimed.isEmpty { logger.notice("taking up \(claimed.count) spool files claimed before a restart") }
            await process(claimed)
        } catch {
            logger.error("cannot list the spool's claimed files", metadata: ["error": "\(error)"])
        }
    }

    /// Takes everything in `new/`, and what earlier passes left in `claimed/` to try
    /// again. Calls that arrive during a scan make it go round once more instead of
    /// running a second scan beside it.
    ///
    /// A claim that fails is that entry's problem (issue: one writer's directory must not
    /// stop everyone's intake): the entry is reported once and left, the rest flows, and
    /// whatever this pass claimed is processed whatever happened after it.
    func scan() async {
        if scanning {
            rescanWanted = true
            return
        }
        scanning = true
        defer { scanning = false }
        repeat {
            rescanWanted = false
            var claimed = takeRetries()
            do {
                let waiting = try spool.listWaiting()
                census.listedNew(waiting)
                reportedStuck.formIntersection(waiting.map(\.identity))
                for (index, entry) in waiting.enumerated() {
                    // Ten thousand renames take a few hundred milliseconds; a pause now
                    // and then lets a control command have the thread meanwhile.
                    if index % 64 == 63 { await Task.yield() }
                    let file: ClaimedFile?
                    do {
                        file = try spool.claim(entry.name)
                    } catch where error.concernsEntry {
                        // Still in new/, so still counted there.
                        await reportStuck(entry, error)
                        continue
                    }
                    if let file { claimed.append(file) }
                    census.leftNew(claimed: file != nil, nextOldest: index + 1 < waiting.count ? waiting[index + 1].modified : nil)
                }
            } catch {
                logger.error("spool scan failed", metadata: ["error": "\(error)"])
            }
            await process(claimed)
        } while rescanWanted
    }

    /// An entry of new/ that cannot be claimed stays where it is, audited and logged
    /// once per delivery (not at every pass, nor again after a restart).
    private func reportStuck(_ entry: WaitingFile, _ error: SpoolIOError) async {
        guard reportedStuck.insert(entry.identity).inserted else { return }
        let name = entry.name.description
        let reason = "cannot be claimed, left in new/: \(error)"
        do {
            _ = try await engine.recordRejection(
                AuditEntry(.authorizationRejected, user: nil, externalID: nil, actor: .wbkeyd,
                    detail: ["file": .string(name), "reason": .string(reason)]),
                delivery: "new/\(name)|\(entry.identity)", message: "spool entry cannot be claimed: \(reason)", level: .warning,
                metadata: ["file": "\(name)"])
        } catch {
            reportedStuck.remove(entry.identity)
            logger.error("could not record a spool entry that cannot be claimed", metadata: ["file": "\(name)", "error": "\(error)"])
        }
    }

    /// Claimed files to take again at the next pass: not read for want of descriptors or
    /// memory, or not committed. Waiting for the next pass (an arrival or the periodic
    /// rescan) rather than retrying at once keeps a lasting failure from spinning.
    private func retryLater(_ file: ClaimedFile) {
        if !retries.contains(file) { retries.append(file) }
    }

    private func takeRetries() -> [ClaimedFile] {
        defer { retries.removeAll() }
        return retries
    }

    private func process(_ files: [ClaimedFile]) async {
        await withTaskGroup(of: Void.self) { group in
            var started = 0
            for file in files {
                if started >= parallelism { await group.next() }
                group.addTask { await self.handle(file) }
                started += 1
            }
        }
    }

    private func handle(_ file: ClaimedFile) async {
        let name = file.description
        switch spool.examine(file, now: Date(), maxCodeAge: maxCodeAge) {
        case .failure(.unreadable(let refusal)) where !refusal.rejectsFile:
            if refusal == .vanished {
                logger.warning("claimed spool file vanished before it was read", metadata: ["file": "\(name)"])
            } else {
                logger.warning("spool file not read; it stays claimed and is tried again at the next pass",
                    metadata: ["file": "\(name)", "error": "\(refusal.reason)"])
                retryLater(file)
            }
        case .failure(let refusal):
            await reject(file, reason: refusal.reason, user: refusal.user)
        case .success(.authorization(let request)):
            await accept(request, file: file, name: name)
        case .success(.revocation(let request)):
            do {
                guard try await engine.revokeFromSpool(user: request.user, reason: request.reason) else {
                    return await reject(file, reason: "revocation for a user wbkeyd does not know", user: request.user)
                }
                try spool.complete(file)
                census.leftClaimed(rejected: false)
            } catch {
                logger.error("revocation not recorded; the file stays claimed", metadata: ["file": "\(name)", "error": "\(error)"])
                retryLater(file)
            }
        }
    }

    private func accept(_ request: AuthorizationRequest, file: ClaimedFile, name: String) async {
        do {
            if case .refused(let reason) = try await engine.ingest(request, file: name) {
                return await reject(file, reason: reason, user: request.user)
            }
            try spool.complete(file)
            census.leftClaimed(rejected: false)
        } catch {
            logger.error("authorization not recorded; the file stays claimed", metadata: ["file": "\(name)", "error": "\(error)"])
            retryLater(file)
        }
    }

    private func reject(_ file: ClaimedFile, reason: String, user: String?) async {
        let name = file.description
        do {
            let recorded = try await engine.recordRejection(
                AuditEntry(.authorizationRejected, user: user, externalID: nil, actor: .wbkeyd,
                    detail: ["file": .string(name), "reason": .string(reason)]),
                delivery: delivery(of: file), message: "spool file rejected: \(reason)", level: .warning,
                metadata: ["file": "\(name)"])
            if !recorded {
                logger.notice("spool file refused before a restart; its refusal was audited then", metadata: ["file": "\(name)"])
            }
            _ = try spool.reject(file, reason: reason)
            census.leftClaimed(rejected: true)
        } catch {
            logger.error("could not reject a spool file; it stays claimed", metadata: ["file": "\(name)", "error": "\(error)"])
            retryLater(file)
        }
    }

    /// The delivery's name and `SpoolDirectory.deliveryIdentity(of:)`.
    private func delivery(of file: ClaimedFile) -> String {
        guard let identity = spool.deliveryIdentity(of: file) else { return file.description }
        return "\(file.description)|\(identity)"
    }

    /// Lists the three directories and puts the counts in the census: at start, and
    /// then once a second in the background (see `SpoolCensus` for why that is enough).
    func recount() {
        let now = Date()
        do {
            census.recounted(try spool.backlog(now: now), at: now)
            recountFailing = false
        } catch {
            // Once per failing stretch, not once a second.
            if !recountFailing { logger.error("cannot count the spool's files", metadata: ["error": "\(error)"]) }
            recountFailing = true
        }
    }
}

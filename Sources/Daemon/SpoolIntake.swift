import Foundation
import Logging
import Sensitive
import Spool
import Store

/// The spool stage (DESIGN.md §4): claim, validate, commit, then delete, like
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

    /// Takes everything in `new/`. Calls that arrive during a scan make it go round
    /// once more instead of running a second scan beside it.
    func scan() async {
        if scanning {
            rescanWanted = true
            return
        }
        scanning = true
        defer { scanning = false }
        repeat {
            rescanWanted = false
            do {
                let waiting = try spool.listWaiting()
                census.listedNew(waiting)
                var claimed: [ClaimedFile] = []
                for (index, entry) in waiting.enumerated() {
                    // Ten thousand renames take a few hundred milliseconds; a pause now
                    // and then lets a control command have the thread meanwhile.
                    if index % 64 == 63 { await Task.yield() }
                    let file = try spool.claim(entry.name)
                    if let file { claimed.append(file) }
                    census.leftNew(claimed: file != nil, nextOldest: index + 1 < waiting.count ? waiting[index + 1].modified : nil)
                }
                await process(claimed)
            } catch {
                logger.error("spool scan failed", metadata: ["error": "\(error)"])
            }
        } while rescanWanted
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
        case .failure(let refusal):
            await reject(file, reason: refusal.reason, user: refusal.user)
        case .success(.authorization(let request)):
            await accept(request, file: file, name: name)
        case .success(.revocation(let request)):
            do {
                guard try await engine.revokeFromSpool(user: request.user, reason: request.reason) != nil else {
                    return await reject(file, reason: "revocation for a user wbkeyd does not know", user: request.user)
                }
                try spool.complete(file)
                census.leftClaimed(rejected: false)
            } catch {
                logger.error("revocation not recorded; the file stays claimed", metadata: ["file": "\(name)", "error": "\(error)"])
            }
        }
    }

    private func accept(_ request: AuthorizationRequest, file: ClaimedFile, name: String) async {
        do {
            var verifier = request.codeVerifier
            if verifier == nil, let state = request.state {
                verifier = try await engine.takeVerifier(forState: state, user: request.user)
                if verifier == nil {
                    return await reject(
                        file, reason: "state does not match a pending authorize-url for this user (unknown, used or expired)",
                        user: request.user)
                }
            }
            guard let verifier else {
                return await reject(file, reason: "code_verifier missing and no state given", user: request.user)
            }
            _ = try await engine.ingest(request, verifier: verifier, file: name)
            try spool.complete(file)
            census.leftClaimed(rejected: false)
        } catch {
            logger.error("authorization not recorded; the file stays claimed", metadata: ["file": "\(name)", "error": "\(error)"])
        }
    }

    private func reject(_ file: ClaimedFile, reason: String, user: String?) async {
        let name = file.description
        do {
            let recorded = try await engine.recordRejection(
                AuditEntry(.authorizationRejected, user: user, externalId: nil, actor: .wbkeyd,
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
        }
    }

    /// What tells this delivery apart from any other under the same name: a crash leaves
    /// the same file (inode, size, mtime) in claimed/; a writer delivering again makes a new one.
    private func delivery(of file: ClaimedFile) -> String {
        var status = stat()
        guard lstat(spool.claimedPath + "/" + file.description, &status) == 0 else { return file.description }
        return "\(file.description)|\(status.st_dev)|\(status.st_ino)|\(status.st_size)|\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
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

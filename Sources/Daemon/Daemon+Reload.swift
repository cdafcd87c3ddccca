import DaemonConfig
import Foundation
import Store
import Systemd
import WhiteBITClient

/// SIGHUP (docs/design.md §8): RELOADING=1, re-read the file, apply what can change live,
/// audit it, READY=1. A bad file changes nothing and says why.
extension Daemon {
    func reload() async {
        let path = settings.current.path
        status.enter(.reloading)
        notifier.reloading(status: "reloading \(path)")
        defer {
            status.enter(.ready)
            notifier.ready(status: statusLine())
        }
        let old = settings.current
        // The same decision `wbkeyd check-config --reload` (wbkeyd.service's first
        // ExecReload=) makes, so that `systemctl reload` fails exactly when this refuses.
        let report = ConfigurationReport.reloadCheck(path: path, loader: loader)
        guard let new = report.loaded else {
            let problems = report.problems.map(\.description)
            logger.error(
                "new configuration refused; the old one stays in force: \(problems.joined(separator: "; "))",
                metadata: ["event": "config_rejected", "file": "\(path)"])
            notifier.status("configuration refused, old one in force: \(problems.first ?? "invalid")")
            status.recordReload(ReloadOutcome(at: Date(), applied: false, problem: problems.first ?? "invalid"))
            _ = try? await engine.record(
                AuditEntry(.configReloaded, user: nil, externalID: nil, actor: .wbkeyd,
                    detail: ["outcome": "refused", "problems": .string(problems.joined(separator: "; "))]),
                message: "configuration reload refused", level: .error)
            return
        }
        let changes = ConfigurationChanges(from: old.configuration, to: new.configuration)
        var applied = new.configuration
        // Settings that need a restart keep their running values until then.
        applied.whitebit.baseURL = old.configuration.whitebit.baseURL
        applied.whitebit.clientID = old.configuration.whitebit.clientID
        applied.whitebit.clientSecretFile = old.configuration.whitebit.clientSecretFile
        applied.spool.directory = old.configuration.spool.directory
        applied.store.path = old.configuration.store.path
        applied.store.masterKeyFile = old.configuration.store.masterKeyFile
        applied.control.socket = old.configuration.control.socket
        applied.control.mode = old.configuration.control.mode
        applied.metrics.listen = old.configuration.metrics.listen
        settings.current = LoadedConfiguration(path: path, configuration: applied, access: new.access, credentials: old.credentials)
        await engine.setPolicy(Self.policy(applied))
        await engine.setCallBudget(
            Self.callBudget(requestTimeout: applied.whitebit.requestTimeout, leaseTerm: await engine.leases.term))
        if changes.changedKeys.contains("keys.probe_interval") {
            do {
                _ = try await engine.settleKeyWatches()
            } catch {
                logger.error("probes could not be re-planned after the reload", metadata: ["error": "\(error)"])
            }
        }
        await intake.setMaxCodeAge(applied.spool.maxCodeAge)
        if changes.changedKeys.contains(where: { $0.hasPrefix("whitebit.") && !ConfigurationChanges.restartKeys.contains($0) }) {
            await replaceClient(applied)
        }
        if changes.changedKeys.contains("spool.rescan_interval") {
            await rescheduleSpoolRescan(applied.spool.rescanInterval)
        }
        if changes.changedKeys.contains("control.admin_group") || changes.changedKeys.contains("control.socket_group") {
            regroupControlSocket(new.access.socketGroup?.gid)
        }
        status.recordReload(ReloadOutcome(at: Date(), applied: true))
        for key in changes.keysNeedingRestart {
            logger.warning("\(key) changed; it takes effect at the next restart", metadata: ["event": "config_reloaded"])
        }
        _ = try? await engine.record(
            AuditEntry(.configReloaded, user: nil, externalID: nil, actor: .wbkeyd,
                detail: [
                    "outcome": "applied", "changed": .string(changes.keysAppliedLive.joined(separator: ", ")),
                    "needs_restart": .string(changes.keysNeedingRestart.joined(separator: ", ")),
                ]),
            message: "configuration reloaded (\(changes.keysAppliedLive.count) live change(s), \(changes.keysNeedingRestart.count) for the next restart)")
    }

    /// A shorter interval must not wait out the rescan the old one scheduled (up to an
    /// hour away): the next rescan comes one new interval from now, or sooner if it was due.
    private func rescheduleSpoolRescan(_ interval: Duration) async {
        let next = Date().addingTimeInterval(interval.seconds)
        if let due = await scheduler.deadline(of: .spoolRescan), due <= next { return }
        await scheduler.schedule(.spoolRescan, at: next)
    }

    /// A socket wbkeyd bound has `control.socket_group` (else the admin group) as its group, and with mode 0660 no one
    /// else may connect: the new admins must be able to now, the old ones no longer. A
    /// socket passed by systemd keeps the unit's SocketGroup=.
    private func regroupControlSocket(_ gid: gid_t?) {
        guard let path = boundSocketPath.value else { return }
        // Root only: the group a freshly bound socket gets.
        if chown(path, uid_t.max, gid ?? getegid()) != 0 {
            let reason = String(cString: strerror(errno))
            logger.error(
                "the control socket keeps its group until the next restart: \(reason)",
                metadata: ["event": "config_reloaded", "socket": "\(path)"])
        }
    }

    /// Limits and timeouts of the WhiteBIT client change by replacing it; calls in
    /// flight finish on the old one.
    private func replaceClient(_ configuration: DaemonConfiguration) async {
        do {
            let secret = try CredentialFile.readClientSecret(at: settings.current.credentials.clientSecret)
            let client = try engine.client.reconfigured(Self.clientConfiguration(configuration, secret: secret))
            let old = await engine.replaceClient(client)
            Task {
                try? await Task.sleep(for: configuration.whitebit.requestTimeout * 2)
                await old.shutdown()
            }
        } catch {
            logger.error("the WhiteBIT client could not be rebuilt; the old settings stay", metadata: ["error": "\(error)"])
        }
    }
}

import Foundation
import Glibc
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// What wbkeyd.service's `ExecReload=` runs before the SIGHUP (`check-config --reload
/// --quiet`), the full check an admin runs before a restart, and what `status` and
/// `metrics` say about the last reload.
@Suite struct ReloadOutcomeTests {
    /// `--reload` must pass exactly the files the daemon's SIGHUP applies, and without the
    /// credentials: under systemd 252 the ExecReload= process cannot read them.
    @Test func theReloadCheckDecidesAsTheDaemonsReloadDoes() async throws {
        try await withDaemon { daemon in
            let file = daemon.paths.directory + "/reload.toml"
            // Credentials from a $CREDENTIALS_DIRECTORY that does not exist: only a check
            // that never opens them can pass.
            func reloadCheck(_ config: DaemonConfigFile) async throws -> CommandResult {
                try Data(config.rendered.utf8).write(to: URL(fileURLWithPath: file))
                return try await CommandRunner.run(
                    try DaemonProcess.executablePath(), ["check-config", "--reload", "--config", file],
                    environment: ["CREDENTIALS_DIRECTORY": daemon.paths.directory + "/no-credentials-here"])
            }
            let running = daemon.defaultConfig.merging(daemon.options.config)
                .merging(["whitebit.client_secret_file": "", "store.master_key_file": ""])

            var quiet = try await CommandRunner.run(
                try DaemonProcess.executablePath(), ["check-config", "--reload", "--quiet", "--config", daemon.paths.configFile])
            #expect(quiet.exitStatus == 0 && quiet.standardOutput.isEmpty && quiet.standardError.isEmpty, "\(quiet.standardError)")

            // A good change: passes; the daemon applies it.
            let good = try await reloadCheck(running.merging(["keys.info_poll_interval": "1s"]))
            #expect(good.exitStatus == 0 && good.standardError.isEmpty, "\(good.standardError)")
            #expect(good.standardOutput.hasPrefix("# \(file): a reload would apply this file;"), "\(good.standardOutput)")
            try await daemon.reload(["keys.info_poll_interval": "1s"])
            #expect(try await daemon.lastReloadRow()?.detailValue("outcome") == "applied")

            // A bad value: exit 78 naming the key; the daemon refuses the same file.
            let badValue = running.merging(["keys.info_poll_interval": "0s"])
            let bad = try await reloadCheck(badValue)
            #expect(bad.exitStatus == 78 && bad.standardOutput.isEmpty)
            #expect(bad.standardError.hasPrefix("\(file): keys.info_poll_interval: "), "\(bad.standardError)")
            try await daemon.reload(["keys.info_poll_interval": "0s"])
            let refused = try #require(try await daemon.lastReloadRow())
            #expect(refused.detailValue("outcome") == "refused")
            #expect(refused.detailValue("problems")?.contains("keys.info_poll_interval: ") == true, "\(refused.detail)")

            // A restart-only change the full check refuses (the socket's directory is
            // gone): a reload keeps the old socket, so the reload check passes and names
            // the key as one for the next restart, and the daemon applies the file,
            // warning that control.socket waits for the restart.
            let socketElsewhere = daemon.paths.directory + "/missing/deeper/control.sock"
            let restartOnly = daemon.defaultConfig.merging(daemon.options.config).merging(["control.socket": .string(socketElsewhere)])
            let passes = try await reloadCheck(restartOnly)
            #expect(passes.exitStatus == 0 && passes.standardError.isEmpty, "\(passes.standardError)")
            #expect(passes.standardOutput.contains("control.socket"), "\(passes.standardOutput)")
            let full = try await daemon.wbkeyd(["check-config", "--quiet", "--config", file])
            #expect(full.exitStatus == 78 && full.standardError.contains("\(file): control.socket: "), "\(full.standardError)")
            let mark = daemon.logMark
            try await daemon.reload(["control.socket": .string(socketElsewhere)])
            #expect(try await daemon.lastReloadRow()?.detailValue("needs_restart") == "control.socket")
            #expect(try daemon.process.lines[mark.line...].contains {
                $0.level == "warning" && $0.text.contains("control.socket changed; it takes effect at the next restart")
            })
            quiet = try await CommandRunner.run(try DaemonProcess.executablePath(), ["check-config", "--reload", "--quiet", "--config", file])
            #expect(quiet.exitStatus == 0 && quiet.standardOutput.isEmpty, "\(quiet.standardOutput)")
            #expect(!(bad.standardError + good.standardOutput + passes.standardOutput).contains(daemon.options.clientSecret.revealed))
        }
    }

    @Test func checkConfigQuietIsSilentOnAGoodFileAndNamesEveryProblemOfABadOne() async throws {
        try await withDaemon { daemon in
            let good = try await daemon.wbkeyd(["check-config", "--quiet", "--config", daemon.paths.configFile])
            #expect(good.exitStatus == 0 && good.standardOutput.isEmpty && good.standardError.isEmpty, "\(good.standardError)")

            // Paths as the service's user sees them: a claimed/ open to others, a socket
            // directory that is gone.
            let claimed = daemon.paths.spoolRoot + "/claimed"
            chmod(claimed, 0o755)
            defer { chmod(claimed, 0o700) }
            let socketElsewhere = daemon.paths.directory + "/missing/deeper/control.sock"
            let changed = daemon.defaultConfig.merging(daemon.options.config).merging(["control.socket": .string(socketElsewhere)])
            let file = daemon.paths.directory + "/changed.toml"
            try Data(changed.rendered.utf8).write(to: URL(fileURLWithPath: file))
            let bad = try await daemon.wbkeyd(["check-config", "--quiet", "--config", file])
            #expect(bad.exitStatus == 78 && bad.standardOutput.isEmpty)
            #expect(bad.standardError.contains("\(file): spool.directory: \(claimed) has mode 0755; it holds delivered files and must be 0700"), "\(bad.standardError)")
            #expect(
                bad.standardError.contains(
                    "\(file): control.socket: \(daemon.paths.directory)/missing/deeper does not exist, nor does its directory \(daemon.paths.directory)/missing"),
                "\(bad.standardError)")

            // A file that does not parse: the key named, exit 78, nothing on stdout.
            try Data("[nonsense]\nkey = 1\n".utf8).write(to: URL(fileURLWithPath: file))
            let nonsense = try await daemon.wbkeyd(["check-config", "--quiet", "--config", file])
            #expect(nonsense.exitStatus == 78 && nonsense.standardOutput.isEmpty)
            #expect(nonsense.standardError.contains("nonsense"), "\(nonsense.standardError)")
            #expect(!(nonsense.standardError + bad.standardError).contains(daemon.masterKey.map { String(format: "%02x", $0) }.joined()))
        }
    }

    @Test func statusAndMetricsShowTheLastReload() async throws {
        try await withDaemon { daemon in
            // Before any reload: the configuration in force loaded; no reload time yet.
            var metrics = try await daemon.control("metrics")
            #expect(metrics.contains("\nwbkeyd_config_last_reload_successful 1\n"), "\(metrics)")
            #expect(!metrics.contains("wbkeyd_config_last_reload_success_timestamp_seconds"))
            #expect(try await daemon.control("status").contains("\nlast reload:   -\n"))

            let before = Date().timeIntervalSince1970.rounded(.down)
            try await daemon.reload(["keys.info_poll_interval": "1s"])
            let applied = try await daemon.control("status")
            #expect(applied.range(of: #"\nlast reload:   \d{4}-\d\d-\d\dT[0-9:]+Z applied\n"#, options: .regularExpression) != nil, "\(applied)")
            metrics = try await daemon.control("metrics")
            #expect(metrics.contains("\nwbkeyd_config_last_reload_successful 1\n"))
            let stamp = try #require(metrics.split(separator: "\n").first { $0.hasPrefix("wbkeyd_config_last_reload_success_timestamp_seconds ") })
            let seconds = try #require(Double(stamp.split(separator: " ")[1]))
            #expect(seconds >= before - 1 && seconds <= Date().timeIntervalSince1970 + 1, "\(stamp)")

            try await daemon.reload(writing: "[nonsense]\nkey = 1\n")
            let statusJSON = try await daemon.control("status json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(statusJSON.utf8)) as? [String: Any])
            let reload = try #require(object["last_reload"] as? [String: Any])
            #expect(reload["outcome"] as? String == "refused" && (reload["problem"] as? String)?.hasPrefix(daemon.paths.configFile + ": ") == true, "\(reload)")
            metrics = try await daemon.control("metrics")
            #expect(metrics.contains("\nwbkeyd_config_last_reload_successful 0\n"))
            // The last success keeps its time.
            #expect(metrics.contains(String(stamp)))
        }
    }
}

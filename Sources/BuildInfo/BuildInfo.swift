/// The one source of every program's `--version` (and of `status`'s version): the
/// release and the git revision the binary was built from.
///
/// The revision comes from `Revision.swift` beside this file. In the repository that file
/// says "unknown"; `scripts/install` writes the checkout's `git describe` into it for its
/// release build and puts the file back afterwards, so no build plugin and no network is
/// needed, and a plain `swift build` of a clean clone still builds (and says it does not
/// know its revision rather than guessing).
public enum BuildInfo {
    public static let version = "0.1.0"
    public static let revision: String = Revision.value

    /// `wbkeyd 0.1.0 (git v0.1.0-12-g987bca0)`, the same shape for every program.
    public static func versionLine(_ program: String) -> String {
        "\(program) \(version) (git \(revision))"
    }
}

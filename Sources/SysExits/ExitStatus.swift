/// The exit statuses every program of the package uses (`EXIT STATUS` in each manual
/// page): 0 and 1 as usual, the rest from BSD's sysexits.h, which systemd's
/// RestartPreventExitStatus= and shell scripts can tell apart.
public enum ExitStatus {
    /// Done as asked.
    public static let success: Int32 = 0
    /// The answer was no: wbkeyd answered `error: …`, the audit chain is broken, a rewrap
    /// or a spool write failed, or the daemon hit a fatal error (a failed store write).
    public static let failure: Int32 = 1
    /// EX_USAGE: the command line is wrong; nothing was done. ArgumentParser's own.
    public static let usage: Int32 = 64
    /// EX_NOINPUT: a file to read (a store to verify) does not exist or cannot be opened.
    public static let noInput: Int32 = 66
    /// EX_UNAVAILABLE: wbkeyd (or the demo's simulator) cannot be reached.
    public static let unavailable: Int32 = 69
    /// EX_CONFIG: the configuration or a credential was refused; a restart cannot help.
    public static let configuration: Int32 = 78

}

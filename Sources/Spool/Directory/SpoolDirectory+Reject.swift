import Glibc

extension SpoolDirectory {
    /// Moves a claimed file to `rejected/` and writes `NAME.reason` beside it holding
    /// `reason` as one line. Returns the name it got there (plain text, already escaped).
    ///
    /// The rejected name is the claimed name escaped (printable, never a dotfile), cut
    /// to 200 bytes; if that name or its `.reason` is taken, or it would itself end in
    /// `.reason`, a suffix `.2`, `.3`… is added. Nothing in `rejected/` is replaced.
    ///
    /// A regular file arrives blanked (`RejectedContent`): its secrets never reach
    /// rejected/. The blanked copy is written beside, renamed into place, and only then
    /// is the claimed file removed; a crash in between leaves it claimed, to be refused
    /// again (its audit row is not written twice).
    @discardableResult
    public func reject(_ claimed: ClaimedFile, reason: String) throws(SpoolIOError) -> String {
        let line = Array((Self.oneLine(reason) + "\n").utf8)
        let source = SpoolPath(claimedPath, claimed.name)
        let blanked = RejectedContent.blanked(fileAt: source)
        let base = SpoolEntryName(String(claimed.name.description.prefix(200)))
        for attempt in 1...1000 {
            let target = attempt == 1 ? base : base.suffixed(attempt)
            let reasonName = SpoolEntryName(bytes: target.bytes + Self.reasonSuffix)
            let targetPath = SpoolPath(rejectedPath, target)
            let reasonPath = SpoolPath(rejectedPath, reasonName)
            if target.bytes.ends(with: Self.reasonSuffix) || FileSystem.exists(targetPath)
                || FileSystem.exists(reasonPath)
            {
                continue
            }
            // The reason is in place before the file arrives, so every file in
            // rejected/ has its reason beside it, even after a crash in between.
            guard try placeReason(line, at: reasonPath) else { continue }
            let outcome: RenameOutcome
            do {
                if let blanked {
                    outcome = try placeBlanked(blanked, at: targetPath, replacing: source)
                } else {
                    outcome = try FileSystem.renameWithoutReplacing(source, targetPath)
                }
            } catch {
                unlink(reasonPath.cString)
                throw error
            }
            switch outcome {
            case .moved:
                // rejected/ first: the rejection must be on disk before the caller audits
                // it. Then claimed/, so a crash cannot bring the file back to be rejected
                // a second time.
                try FileSystem.syncDirectory(rejectedPath)
                try FileSystem.syncDirectory(claimedPath)
                return String(decoding: target.bytes, as: UTF8.self)
            case .targetExists:
                unlink(reasonPath.cString)
                continue
            case .sourceMissing:
                unlink(reasonPath.cString)
                throw source.error("reject", ENOENT)
            }
        }
        throw SpoolIOError(operation: "reject (every suffix taken)", path: source.display, errno: EEXIST)
    }

    /// Writes the blanked content under a temporary name, fsyncs it, renames it to
    /// `target` (never replacing) and then removes the claimed file: `.moved` then means
    /// what a rename of the claimed file would have meant.
    private func placeBlanked(_ bytes: [UInt8], at target: SpoolPath, replacing source: SpoolPath) throws(SpoolIOError)
        -> RenameOutcome
    {
        let temporary = SpoolPath(rejectedPath, FileSystem.temporaryName("rejected"))
        try FileSystem.writeNewFile(temporary, bytes, mode: 0o640)
        let outcome: RenameOutcome
        do {
            outcome = try FileSystem.renameWithoutReplacing(temporary, target)
        } catch {
            unlink(temporary.cString)
            throw error
        }
        switch outcome {
        case .moved:
            try FileSystem.syncDirectory(rejectedPath)
            guard unlink(source.cString) == 0 || errno == ENOENT else { throw source.error("unlink") }
            return .moved
        case .targetExists:
            unlink(temporary.cString)
            return .targetExists
        case .sourceMissing: throw temporary.error("rename", ENOENT)
        }
    }

    /// Writes the reason under a temporary name, fsyncs it and renames it into place;
    /// false when the name was taken meanwhile.
    private func placeReason(_ line: [UInt8], at reasonPath: SpoolPath) throws(SpoolIOError) -> Bool {
        let temporary = SpoolPath(rejectedPath, FileSystem.temporaryName("reason"))
        try FileSystem.writeNewFile(temporary, line, mode: 0o640)
        let outcome: RenameOutcome
        do {
            outcome = try FileSystem.renameWithoutReplacing(temporary, reasonPath)
        } catch {
            unlink(temporary.cString)
            throw error
        }
        switch outcome {
        case .moved: return true
        case .targetExists:
            unlink(temporary.cString)
            return false
        case .sourceMissing: throw temporary.error("rename", ENOENT)
        }
    }

    /// The reason file holds one line: callers pass reasons built from other errors,
    /// and a newline or control character in one must not forge a second line.
    static func oneLine(_ reason: String) -> String {
        let scalars = reason.unicodeScalars.map { scalar -> Unicode.Scalar in
            scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
                ? " " : scalar
        }
        var line = String(String.UnicodeScalarView(scalars)).trimmingSpaces
        if line.isEmpty { line = "rejected" }
        return String(line.prefix(1000))
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}

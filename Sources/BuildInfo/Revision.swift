// scripts/install rewrites this line for its build (`git describe --always --dirty`) and
// restores it afterwards; keep it to the one assignment.
enum Revision { static let value = "unknown" }

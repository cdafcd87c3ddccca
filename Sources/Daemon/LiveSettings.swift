import DaemonConfig
import Synchronization

/// A value shared between tasks and closures, behind a lock. (`Mutex` itself cannot
/// be captured: it is non-copyable.)
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}

/// The configuration in force; a reload swaps it whole.
typealias LiveSettings = Locked<LoadedConfiguration>

extension Locked where Value == LoadedConfiguration {
    var current: LoadedConfiguration {
        get { value }
        set { value = newValue }
    }
}

import Synchronization

/// A value that arrives once, from a thread or a timer, and is awaited from async code.
/// Shared by both harnesses (`package`): child exits, output ends, readiness.
package final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case done(Value)
    }

    private let state = Mutex(State.waiting([]))

    package init() {}

    /// The first call wins; later ones are ignored. True when this call set the value.
    @discardableResult
    package func fulfil(_ value: Value) -> Bool {
        let waiters: [CheckedContinuation<Value, Never>]? = state.withLock { state in
            guard case .waiting(let waiters) = state else { return nil }
            state = .done(value)
            return waiters
        }
        for waiter in waiters ?? [] { waiter.resume(returning: value) }
        return waiters != nil
    }

    package var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    switch state {
                    case .done(let value): return value
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    package var peek: Value? {
        state.withLock { state in
            if case .done(let value) = state { return value }
            return nil
        }
    }
}

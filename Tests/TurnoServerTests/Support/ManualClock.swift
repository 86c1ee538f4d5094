import Synchronization
import TurnoCore

/// A clock that stands still until the test moves it (postgres-nio's `MockClock` is the model): `advance(by:)` sets
/// the time on and wakes every sleeper whose wait is over, so a background loop runs one round per advance.
final class ManualClock: ServerClock {
    private struct Sleeper {
        var id: Int
        var wakesAtMs: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nowMs: Int64
        var nextID = 0
        var sleepers: [Sleeper] = []
        var cancelled: Set<Int> = []
    }

    private let state: Mutex<State>

    init(nowMs: Int64) {
        state = Mutex(State(nowMs: nowMs))
    }

    func nowMilliseconds() -> Int64 {
        state.withLock { $0.nowMs }
    }

    /// How many tasks are waiting on this clock: a test waits for its loop to be asleep before it advances.
    var sleeping: Int {
        state.withLock { $0.sleepers.count }
    }

    func sleep(for duration: Duration) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let refused: (any Error)? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return CancellationError() }
                    state.sleepers.append(Sleeper(id: id, wakesAtMs: state.nowMs + duration.milliseconds, continuation: continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the time on by `duration` and wakes the sleepers whose wait is over.
    func advance(by duration: Duration) {
        let woken = state.withLock { state in
            state.nowMs += duration.milliseconds
            let now = state.nowMs
            let woken = state.sleepers.filter { $0.wakesAtMs <= now }
            state.sleepers.removeAll { $0.wakesAtMs <= now }
            return woken
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

import Foundation
import Testing

/// Waiting gave up: the condition did not hold before the deadline.
struct GaveUpWaiting: Error, CustomStringConvertible {
    let timeout: Duration
    let sourceLocation: SourceLocation

    var description: String { "the condition at \(sourceLocation) did not hold within \(timeout)" }
}

/// Polls `condition` until it holds, or throws `GaveUpWaiting` once `timeout` has passed: for waiting on something the
/// code lets a test observe (a subscription registered, a message arrived, a token expired) instead of sleeping for a
/// guessed time. The deadline only bounds a failing test; a passing one waits as long as the condition takes.
func eventually(
    timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !(try await condition()) {
        guard clock.now < deadline else { throw GaveUpWaiting(timeout: timeout, sourceLocation: sourceLocation) }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Starts `process`, one at a time across the tests: Foundation's `Process.run()` on Linux is not safe to call from
/// several threads at once (it crashed copying the environment while another test started nginx).
func launch(_ process: Process) throws {
    try processLaunches.withLock { try process.run() }
}

private let processLaunches = NSLock()

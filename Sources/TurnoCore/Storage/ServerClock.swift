import Foundation

/// Where the server reads the time of day and waits between rounds of periodic work. Commands, stores and
/// background services get one passed in (the platform's ``Platform/clock``), so that a test can set the time and
/// move it on, and drive a loop round by round without sleeping. Waits that are about the network or the database
/// (retries, polling, timeouts) keep to real time.
public protocol ServerClock: Sendable {
    /// Milliseconds since 1970 in UTC, the unit every table stores times in.
    func nowMilliseconds() -> Int64
    /// Waits `duration` of this clock's time; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The system's time, and real waits.
public struct SystemClock: ServerClock {
    public init() {}

    public func nowMilliseconds() -> Int64 {
        Date().milliseconds
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

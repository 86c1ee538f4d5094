import Foundation

/// The real time, read only at the edges (storage, HTTP); domain code gets times passed in.
public enum WallClock {
    /// Milliseconds since 1970 in UTC, the unit every table stores times in.
    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

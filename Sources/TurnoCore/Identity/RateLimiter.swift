import Foundation
import Synchronization

/// Token buckets, one per key (a client address, a user, an API key), held in this node's memory.
/// With several nodes each node counts on its own, so the effective limit is the limit times the nodes.
public final class RateLimiter: Sendable {
    /// A limit: `capacity` requests, refilled evenly over `period`.
    public struct Limit: Sendable, Equatable {
        public var capacity: Int
        public var period: Duration

        public init(_ capacity: Int, per period: Duration) {
            self.capacity = capacity
            self.period = period
        }

        /// Parses `10/minute`, `1000/hour`, `5/second`; `0` or `off` turns the limit off (nil).
        public init?(parsing text: String) throws(SettingsError) {
            if text == "0" || text == "off" { return nil }
            let parts = text.split(separator: "/")
            guard parts.count == 2, let count = Int(parts[0]), count > 0 else {
                throw SettingsError("a rate limit looks like 10/minute, 1000/hour or off; got \(text)")
            }
            switch parts[1] {
            case "second", "s": period = .seconds(1)
            case "minute", "min", "m": period = .seconds(60)
            case "hour", "h": period = .seconds(3_600)
            default: throw SettingsError("a rate limit's period is second, minute or hour; got \(parts[1])")
            }
            capacity = count
        }

        var refillPerSecond: Double { Double(capacity) / (Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18) }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let buckets = Mutex<[String: Bucket]>([:])

    public init() {}

    /// Takes one token for `key`; when none is left, returns how many seconds until one is.
    public func take(_ key: String, limit: Limit, now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limit.capacity), updated: now)
            bucket.tokens = min(Double(limit.capacity), bucket.tokens + (now - bucket.updated) * limit.refillPerSecond)
            bucket.updated = now
            defer {
                buckets[key] = bucket
                if buckets.count > 100_000 {
                    // Full buckets carry no information: forget them so memory stays bounded.
                    buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * limit.refillPerSecond < Double(limit.capacity) }
                }
            }
            guard bucket.tokens >= 1 else {
                return max(1, Int(((1 - bucket.tokens) / limit.refillPerSecond).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}

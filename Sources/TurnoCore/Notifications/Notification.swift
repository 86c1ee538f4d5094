import Crypto
import Foundation

/// Where a notification goes: an organization's webhook endpoint, or one of a customer's ways of being told.
public enum NotificationChannel: String, Codable, Sendable, CaseIterable {
    case webhook
    case push
    case telegram
    case email
}

/// Where a notification stands. `pending` ones are sent when due; the others are final.
public enum NotificationState: String, Codable, Sendable {
    case pending
    case delivered
    /// Given up: refused for good by the receiver, or still failing after the retry window.
    case failed
    /// Nobody to send it to any more: the follower was erased or the endpoint disabled before it went.
    case cancelled
}

/// A notification to record, in the same transaction as the event that causes it.
public struct NewNotification: Sendable, Equatable {
    public var tenant: Int64
    public var channel: NotificationChannel
    /// The endpoint's id (webhooks) or the follower's (the other channels).
    public var targetID: Int64
    /// The event that caused it; nil for what a change causes without one (a follower's confirmation) or time does
    /// (a near-turn alert by the estimated wait).
    public var eventSequence: Int64?
    /// What to say: the event type for webhooks, the alert's kind (`near`, `called`…) for customers.
    public var kind: String
    /// The ticket it is about, so staff can see per ticket what went out.
    public var ticketID: Int64?
    /// What the message needs besides the event (people ahead, say), as JSON text.
    public var detail: String?

    public init(
        tenant: Int64,
        channel: NotificationChannel,
        targetID: Int64,
        eventSequence: Int64?,
        kind: String,
        ticketID: Int64? = nil,
        detail: String? = nil
    ) {
        self.tenant = tenant
        self.channel = channel
        self.targetID = targetID
        self.eventSequence = eventSequence
        self.kind = kind
        self.ticketID = ticketID
        self.detail = detail
    }
}

/// A notification due to be sent, with the event that caused it.
public struct PendingNotification: Sendable {
    public var id: Int64
    public var tenant: Int64
    public var channel: NotificationChannel
    public var targetID: Int64
    public var kind: String
    public var ticketID: Int64?
    public var detail: String?
    /// This attempt's number, from 1.
    public var attempt: Int
    public var createdAtMs: Int64
    /// The event (nil only if it was erased since).
    public var event: StoredEvent?
}

/// How one attempt went.
public enum NotificationOutcome: Sendable, Equatable {
    /// Accepted by the receiver.
    case delivered(code: Int?, latencyMs: Int)
    /// Failed for now: try again later, not before `notBeforeMs` when the receiver said when.
    case retry(error: String, code: Int?, latencyMs: Int?, notBeforeMs: Int64? = nil)
    /// Refused for good (an expired push subscription, a blocked bot, a rejected address).
    case failed(error: String, code: Int?)
    /// Nothing to send it to any more.
    case cancelled(reason: String)
}

/// When to try again after a failed attempt: 30 seconds, doubling up to six hours between attempts, for up to three
/// days after the notification was recorded (as Stripe and Qminder do); after that it is given up.
public enum RetrySchedule {
    public static let firstDelayMs: Int64 = 30_000
    public static let longestDelayMs: Int64 = 6 * 3_600_000
    public static let windowMs: Int64 = 3 * 86_400_000

    /// The time of the next attempt after attempt number `attempt` (from 1) failed at `nowMs`, or nil when the
    /// notification recorded at `createdAtMs` has been retried long enough. A receiver's own "not before" is kept to.
    public static func nextAttempt(after attempt: Int, nowMs: Int64, createdAtMs: Int64, notBeforeMs: Int64? = nil) -> Int64? {
        let doublings = min(max(attempt - 1, 0), 20)
        let delay = min(firstDelayMs << Int64(doublings), longestDelayMs)
        let next = max(nowMs + delay, notBeforeMs ?? 0)
        return next - createdAtMs > windowMs ? nil : next
    }
}

/// The `Turno-Signature` header of a webhook request: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, with one
/// `v1` per valid secret (two for a day after a rotation), as Stripe signs. Receivers recompute it with their secret
/// and refuse a timestamp outside their replay window.
public enum WebhookSignature {
    public static let header = "Turno-Signature"
    /// How old a signature receivers should accept (the documented replay window).
    public static let toleranceSeconds: Int64 = 300

    public static func header(body: Data, secrets: [String], timeSeconds: Int64) -> String {
        (["t=\(timeSeconds)"] + secrets.map { "v1=\(signature(body: body, secret: $0, timeSeconds: timeSeconds))" }).joined(separator: ",")
    }

    static func signature(body: Data, secret: String, timeSeconds: Int64) -> String {
        var signed = Data("\(timeSeconds).".utf8)
        signed.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// What a receiver does: true when one of the header's `v1` signatures matches `secret` and its time is within
    /// the tolerance of `nowSeconds`.
    public static func verify(header: String, body: Data, secret: String, nowSeconds: Int64, toleranceSeconds: Int64 = toleranceSeconds) -> Bool {
        var time: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { time = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let time, abs(nowSeconds - time) <= toleranceSeconds else { return false }
        let expected = Array(signature(body: body, secret: secret, timeSeconds: time).utf8)
        return signatures.contains { candidate in
            let given = Array(candidate.utf8)
            // Constant time, so that timing does not tell how much of a guess was right.
            return given.count == expected.count && zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}

/// The event types a webhook endpoint subscribes to: exact types (`ticket.called`), a family (`ticket.*`) or `*`.
public struct EventTypePatterns: Sendable, Equatable {
    public let patterns: [String]

    /// Nil unless every pattern is `*`, `family.*` or `family.type` of lowercase letters, digits and `_`.
    public init?(_ patterns: [String]) {
        let valid = patterns.allSatisfy { pattern in
            if pattern == "*" { return true }
            let parts = pattern.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, pattern.count <= 100 else { return false }
            let word: (Substring) -> Bool = { !$0.isEmpty && $0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } }
            return word(parts[0]) && (parts[1] == "*" || word(parts[1]))
        }
        guard valid, !patterns.isEmpty, patterns.count <= 50 else { return nil }
        self.patterns = Array(Set(patterns)).sorted()
    }

    public func matches(_ type: String) -> Bool {
        patterns.contains { pattern in
            pattern == "*" || pattern == type || (pattern.hasSuffix(".*") && type.hasPrefix(pattern.dropLast()))
        }
    }
}

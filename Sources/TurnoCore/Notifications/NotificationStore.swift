import Foundation
import SQLKit

/// The SQL of notifications: the outbox of messages to webhooks and customers, the planner's place in the event log,
/// webhook endpoints, and the server's keys.
public struct NotificationStore: Sendable {
    public let storage: Storage

    public init(storage: Storage) {
        self.storage = storage
    }

    static let migration = Migration(module: "core", version: 5, name: "notifications: the outbox of messages, webhook endpoints, server keys") { kind in
        let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
        return [
            """
            CREATE TABLE notifications (
                id \(id),
                tenant BIGINT NOT NULL,
                channel TEXT NOT NULL,
                target_id BIGINT NOT NULL,
                event_seq BIGINT,
                kind TEXT NOT NULL,
                ticket_id BIGINT,
                detail TEXT,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_ms BIGINT NOT NULL,
                created_at_ms BIGINT NOT NULL,
                last_attempt_ms BIGINT,
                delivered_at_ms BIGINT,
                response_code INTEGER,
                latency_ms INTEGER,
                error TEXT,
                resend_of BIGINT
            )
            """,
            "CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE state = 'pending'",
            "CREATE INDEX notifications_target ON notifications (channel, target_id, id)",
            "CREATE INDEX notifications_ticket ON notifications (ticket_id) WHERE ticket_id IS NOT NULL",
            // How far the planner has read the event log; it starts at the log's head, so an upgrade sends nothing old.
            "CREATE TABLE notification_progress (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL)",
            "INSERT INTO notification_progress (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events",
            """
            CREATE TABLE webhook_endpoints (
                id \(id),
                organization_id BIGINT NOT NULL,
                url TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                event_types TEXT NOT NULL,
                secret TEXT NOT NULL,
                previous_secret TEXT,
                previous_secret_until_ms BIGINT,
                enabled INTEGER NOT NULL DEFAULT 1,
                disabled_reason TEXT,
                failing_since_ms BIGINT,
                created_at_ms BIGINT NOT NULL,
                updated_at_ms BIGINT NOT NULL
            )
            """,
            "CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id, id)",
            "CREATE TABLE server_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ]
    }

    // MARK: The outbox

    /// Records notifications in `transaction`, many rows per statement.
    public func insert(_ notifications: [NewNotification], in transaction: Transaction) async throws {
        for start in stride(from: 0, to: notifications.count, by: 500) {
            let chunk = notifications[start..<min(start + 500, notifications.count)]
            var insert = transaction.sql.insert(into: "notifications")
                .columns("tenant", "channel", "target_id", "event_seq", "kind", "ticket_id", "detail", "state", "next_attempt_ms", "created_at_ms")
            for notification in chunk {
                insert = insert.values(
                    SQLBind(notification.tenant),
                    SQLBind(notification.channel.rawValue),
                    SQLBind(notification.targetID),
                    SQLBind(notification.eventSequence),
                    SQLBind(notification.kind),
                    SQLBind(notification.ticketID),
                    SQLBind(notification.detail),
                    SQLBind(NotificationState.pending.rawValue),
                    SQLBind(transaction.timeMs),
                    SQLBind(transaction.timeMs)
                )
            }
            try await insert.run()
        }
    }

    /// The planner's place in the event log, locked until `transaction` ends (on PostgreSQL).
    func lockProgress(in transaction: Transaction) async throws -> Int64 {
        let lock = transaction.kind == .postgres ? " FOR UPDATE" : ""
        let row = try await transaction.sql.raw("SELECT last_seq FROM notification_progress WHERE id = 1\(unsafeRaw: lock)").first()
        return try row?.decode(column: "last_seq", as: Int64.self) ?? 0
    }

    func setProgress(_ sequence: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE notification_progress SET last_seq = \(bind: sequence) WHERE id = 1").run()
    }

    /// How far the planner has read the event log.
    public func plannedUpTo() async throws -> Int64 {
        try await storage.read { sql in
            try await sql.raw("SELECT last_seq FROM notification_progress WHERE id = 1").first()?.decode(column: "last_seq", as: Int64.self) ?? 0
        }
    }

    /// Up to `limit` pending notifications due by `nowMs`, oldest first, taken for `leaseMs`: each attempt is counted
    /// and the next one put off by the lease, so that if this node dies mid-send they go out again after it. Several
    /// sending tasks claim at once: on PostgreSQL each skips the rows another is claiming (SQLite has one writer).
    /// With none due, it says when the next one will be (nil: none pending).
    func claimDue(nowMs: Int64, limit: Int, leaseMs: Int64) async throws -> (due: [PendingNotification], nextDueMs: Int64?) {
        try await storage.write { transaction in
            let rows = try await transaction.sql.raw(
                """
                SELECT id, tenant, channel, target_id, event_seq, kind, ticket_id, detail, attempts, created_at_ms FROM notifications
                WHERE state = 'pending' AND next_attempt_ms <= \(bind: nowMs) ORDER BY next_attempt_ms, id LIMIT \(unsafeRaw: String(limit))
                \(unsafeRaw: transaction.kind == .postgres ? "FOR UPDATE SKIP LOCKED" : "")
                """
            ).all()
            guard !rows.isEmpty else {
                let next = try await transaction.sql.raw("SELECT MIN(next_attempt_ms) AS next FROM notifications WHERE state = 'pending'").first()
                return ([], try next?.decode(column: "next", as: Int64?.self))
            }
            var claimed: [(PendingNotification, Int64?)] = []
            for row in rows {
                guard let channel = NotificationChannel(rawValue: try row.decode(column: "channel", as: String.self)) else { continue }
                let pending = PendingNotification(
                    id: try row.decode(column: "id", as: Int64.self),
                    tenant: try row.decode(column: "tenant", as: Int64.self),
                    channel: channel,
                    targetID: try row.decode(column: "target_id", as: Int64.self),
                    kind: try row.decode(column: "kind", as: String.self),
                    ticketID: try row.decode(column: "ticket_id", as: Int64?.self),
                    detail: try row.decode(column: "detail", as: String?.self),
                    attempt: try row.decode(column: "attempts", as: Int.self) + 1,
                    createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self),
                    event: nil
                )
                claimed.append((pending, try row.decode(column: "event_seq", as: Int64?.self)))
            }
            let ids = claimed.map(\.0.id)
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                try await transaction.sql.raw(
                    """
                    UPDATE notifications SET attempts = attempts + 1, last_attempt_ms = \(bind: nowMs), next_attempt_ms = \(bind: nowMs + leaseMs)
                    WHERE id IN (\(binds: chunk))
                    """
                ).run()
            }
            let events = try await self.events(Array(Set(claimed.compactMap(\.1))), sql: transaction.sql)
            let due = claimed.map { pending, sequence in
                var pending = pending
                pending.event = sequence.flatMap { events[$0] }
                return pending
            }
            return (due, nil)
        }
    }

    /// The events after `sequence` up to `head`, oldest first.
    func events(after sequence: Int64, upTo head: Int64, limit: Int, sql: any SQLDatabase) async throws -> [StoredEvent] {
        try await sql.raw("SELECT * FROM events WHERE seq > \(bind: sequence) AND seq <= \(bind: head) ORDER BY seq LIMIT \(unsafeRaw: String(limit))")
            .all().map(Storage.event(from:))
    }

    private func events(_ sequences: [Int64], sql: any SQLDatabase) async throws -> [Int64: StoredEvent] {
        var events: [Int64: StoredEvent] = [:]
        for start in stride(from: 0, to: sequences.count, by: 500) {
            let chunk = Array(sequences[start..<min(start + 500, sequences.count)])
            for row in try await sql.raw("SELECT * FROM events WHERE seq IN (\(binds: chunk))").all() {
                let event = try Storage.event(from: row)
                events[event.sequence] = event
            }
        }
        return events
    }

    /// Writes how each attempt went: final states, or the time of the next attempt.
    func record(_ results: [(PendingNotification, NotificationOutcome)], nowMs: Int64) async throws {
        try await storage.write { transaction in
            for (notification, outcome) in results {
                let update: SQLQueryString
                switch outcome {
                case .delivered(let code, let latency):
                    update = """
                        UPDATE notifications SET state = 'delivered', delivered_at_ms = \(bind: nowMs), response_code = \(bind: code),
                        latency_ms = \(bind: latency), error = NULL WHERE id = \(bind: notification.id)
                        """
                case .retry(let error, let code, let latency, let notBefore):
                    let next = RetrySchedule.nextAttempt(
                        after: notification.attempt,
                        nowMs: nowMs,
                        createdAtMs: notification.createdAtMs,
                        notBeforeMs: notBefore
                    )
                    update = """
                        UPDATE notifications SET state = \(bind: next == nil ? NotificationState.failed.rawValue : NotificationState.pending.rawValue),
                        next_attempt_ms = \(bind: next ?? nowMs), response_code = \(bind: code), latency_ms = \(bind: latency),
                        error = \(bind: String(error.prefix(500))) WHERE id = \(bind: notification.id)
                        \(unsafeRaw: next == nil ? "" : "AND state = 'pending'")
                        """
                case .failed(let error, let code):
                    update = """
                        UPDATE notifications SET state = 'failed', response_code = \(bind: code), error = \(bind: String(error.prefix(500)))
                        WHERE id = \(bind: notification.id)
                        """
                case .cancelled(let reason):
                    update = "UPDATE notifications SET state = 'cancelled', error = \(bind: reason) WHERE id = \(bind: notification.id)"
                }
                try await transaction.sql.raw(update).run()
            }
        }
    }

    /// Gives up a target's pending notifications (an endpoint disabled, a follower erased).
    public func cancelPending(channel: NotificationChannel, targetID: Int64, reason: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE notifications SET state = 'cancelled', error = \(bind: reason)
            WHERE channel = \(bind: channel.rawValue) AND target_id = \(bind: targetID) AND state = 'pending'
            """
        ).run()
    }

    // MARK: Server keys

    /// The key stored under `name`, made by `make` and stored the first time (by whichever node gets there first).
    func serverKey(_ name: String, make: () -> String) async throws -> String {
        try await storage.write { transaction in
            let candidate = make()
            try await transaction.sql.raw(
                "INSERT INTO server_keys (name, value) VALUES (\(bind: name), \(bind: candidate)) ON CONFLICT (name) DO NOTHING"
            ).run()
            guard let row = try await transaction.sql.raw("SELECT value FROM server_keys WHERE name = \(bind: name)").first() else {
                throw DatabaseUnavailable("the database did not keep the server key \(name)")
            }
            return try row.decode(column: "value", as: String.self)
        }
    }
}

/// A notification as staff see it in a log: where it went and how it went, never the address or the message.
public struct NotificationRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var channel: NotificationChannel
    public var kind: String
    public var ticketId: Int64?
    public var eventId: Int64?
    public var state: NotificationState
    public var attempts: Int
    public var createdAt: Date
    public var lastAttemptAt: Date?
    public var deliveredAt: Date?
    public var nextAttemptAt: Date?
    public var responseCode: Int?
    public var latencyMs: Int?
    public var error: String?
    public var resendOf: Int64?

    static let columns =
        "id, channel, kind, ticket_id, event_seq, state, attempts, created_at_ms, last_attempt_ms, delivered_at_ms, next_attempt_ms, response_code, latency_ms, error, resend_of"

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: Int64.self)
        channel = NotificationChannel(rawValue: try row.decode(column: "channel", as: String.self)) ?? .webhook
        kind = try row.decode(column: "kind", as: String.self)
        ticketId = try row.decode(column: "ticket_id", as: Int64?.self)
        eventId = try row.decode(column: "event_seq", as: Int64?.self)
        state = NotificationState(rawValue: try row.decode(column: "state", as: String.self)) ?? .failed
        attempts = try row.decode(column: "attempts", as: Int.self)
        createdAt = Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self))
        lastAttemptAt = try row.decode(column: "last_attempt_ms", as: Int64?.self).map(Date.init(milliseconds:))
        deliveredAt = try row.decode(column: "delivered_at_ms", as: Int64?.self).map(Date.init(milliseconds:))
        nextAttemptAt = state == .pending ? Date(milliseconds: try row.decode(column: "next_attempt_ms", as: Int64.self)) : nil
        responseCode = try row.decode(column: "response_code", as: Int?.self)
        latencyMs = try row.decode(column: "latency_ms", as: Int?.self)
        error = try row.decode(column: "error", as: String?.self)
        resendOf = try row.decode(column: "resend_of", as: Int64?.self)
    }
}

extension NotificationStore {
    /// A ticket's notifications, oldest first.
    public func notifications(ofTicket ticketID: Int64) async throws -> [NotificationRecord] {
        try await storage.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: NotificationRecord.columns) FROM notifications WHERE ticket_id = \(bind: ticketID) ORDER BY id")
                .all().map(NotificationRecord.init(row:))
        }
    }

    /// A target's notifications, newest first, before the id `before`.
    func notifications(channel: NotificationChannel, targetID: Int64, before: Int64?, limit: Int) async throws -> [NotificationRecord] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: NotificationRecord.columns) FROM notifications
                WHERE channel = \(bind: channel.rawValue) AND target_id = \(bind: targetID) AND id < \(bind: before ?? .max)
                ORDER BY id DESC LIMIT \(unsafeRaw: String(limit))
                """
            ).all().map(NotificationRecord.init(row:))
        }
    }
}

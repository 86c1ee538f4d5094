import Foundation
import Logging
import Metrics
import SQLKit

/// The database plus the event log: every write is one transaction that also appends its events,
/// and nodes are told about committed events only after the commit (transactional outbox).
public final class Storage: Sendable {
    public let engine: any DatabaseEngine
    /// The time every transaction is stamped with (``Transaction/timeMs``).
    public let clock: any ServerClock
    public var kind: DatabaseKind { engine.kind }
    /// Wakes this node's event feed; it then reads every event it has not seen from the table.
    let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let eventsPublished = Metrics.Counter(label: "turno_events_published_total")

    /// The PostgreSQL channel on which committing transactions announce new events.
    static let notificationChannel = "turno_events"

    public init(engine: any DatabaseEngine, clock: any ServerClock = SystemClock()) {
        self.engine = engine
        self.clock = clock
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Opens the database at `location` and brings its schema up to date.
    public static func open(
        _ location: DatabaseLocation,
        migrations: [Migration],
        logger: Logger,
        clock: any ServerClock = SystemClock()
    ) async throws -> Storage {
        let engine: any DatabaseEngine =
            switch location {
            case .sqlite(let path): try await SQLiteEngine.open(path: path, logger: logger)
            case .postgres(let postgres): try await PostgresEngine.open(postgres, logger: logger)
            }
        do {
            try await Migrator(engine: engine, logger: logger, clock: clock).apply(
                Self.migrations + IdentityStore.migrations + [Self.idempotencyMigration, IdentityStore.passwordChangeMigration, NotificationStore.migration]
                    + migrations
            )
        } catch {
            await engine.close()
            throw error
        }
        return Storage(engine: engine, clock: clock)
    }

    /// Runs `body` in one transaction. Events it appends are committed with its changes, or not at all.
    public func write<T: Sendable>(_ body: (Transaction) async throws -> T) async throws -> T {
        let kind = self.kind
        let (value, appended) = try await engine.transaction { database in
            let transaction = Transaction(sql: database, kind: kind, timeMs: clock.nowMilliseconds())
            let value = try await body(transaction)
            try await AuditTrail.current?.record(in: transaction)
            if kind == .postgres, let last = transaction.appended.last {
                // Delivered by PostgreSQL to every listening node at commit, never on rollback.
                try await database.raw("SELECT pg_notify(\(bind: Self.notificationChannel), \(bind: String(last.sequence)))").run()
            }
            return (value, transaction.appended.count)
        }
        if appended > 0 {
            eventsPublished.increment(by: appended)
            wake.yield()
        }
        return value
    }

    /// Runs `body` with a connection for reading.
    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await engine.read(body)
    }

    /// Events with a sequence above `sequence`, oldest first.
    public func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await read { database in
            try await database.raw(
                """
                SELECT seq, tenant, stream, version, type, topics, data, time_ms FROM events
                WHERE seq > \(bind: sequence) ORDER BY seq LIMIT \(literal: limit)
                """
            ).all().map(Self.event(from:))
        }
    }

    /// The sequence of the newest event, or 0 when there is none.
    public func latestSequence() async throws -> Int64 {
        try await read { database in
            try await database.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").first()?.decode(column: "seq", as: Int64.self) ?? 0
        }
    }

    /// Tells the event feed to look for new events now (used after another process wrote to the same file).
    func wakeFeed() {
        wake.yield()
    }

    func close() async {
        wake.finish()
        await engine.close()
    }

    static func event(from row: any SQLRow) throws -> StoredEvent {
        StoredEvent(
            sequence: try row.decode(column: "seq", as: Int64.self),
            tenant: try row.decode(column: "tenant", as: Int64.self),
            stream: try row.decode(column: "stream", as: String.self),
            version: try row.decode(column: "version", as: Int64.self),
            type: try row.decode(column: "type", as: String.self),
            topics: try row.decode(column: "topics", as: String.self).split(separator: " ").map(String.init),
            data: try row.decode(column: "data", as: String.self),
            timeMs: try row.decode(column: "time_ms", as: Int64.self)
        )
    }

    /// The platform's own tables.
    static let migrations: [Migration] = [
        Migration(module: "core", version: 1, name: "event log") { kind in
            let sequence = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                """
                CREATE TABLE events (
                    seq \(sequence),
                    tenant BIGINT NOT NULL,
                    stream TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    type TEXT NOT NULL,
                    topics TEXT NOT NULL,
                    data TEXT NOT NULL,
                    time_ms BIGINT NOT NULL,
                    UNIQUE (stream, version)
                )
                """,
                "CREATE INDEX events_tenant_seq ON events (tenant, seq)",
            ]
        }
    ]
}

/// One open write transaction: its SQL connection and the events appended so far.
public final class Transaction {
    /// Run the change's statements here.
    public let sql: any SQLDatabase
    public let kind: DatabaseKind
    /// The transaction's time, in milliseconds since 1970 (UTC), stamped on its events.
    public let timeMs: Int64
    public private(set) var appended: [StoredEvent] = []
    private var holdsEventLock = false

    /// Key of the transaction-level advisory lock that makes event sequences commit in order on PostgreSQL.
    static let eventLockKey: Int64 = 0x7475_726E_6F00_0002

    init(sql: any SQLDatabase, kind: DatabaseKind, timeMs: Int64) {
        self.sql = sql
        self.kind = kind
        self.timeMs = timeMs
    }

    /// Appends an event to the log as part of this transaction and returns it with its sequence and version.
    @discardableResult
    public func append(_ event: NewEvent) async throws -> StoredEvent {
        precondition(event.topics.allSatisfy(Topic.isValid), "invalid topic in \(event.topics)")
        if kind == .postgres, !holdsEventLock {
            // Serialises event writers until commit, so a sequence is never visible before a smaller one:
            // a node that has read up to N has seen every event up to N.
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.eventLockKey))").run()
            holdsEventLock = true
        }
        let topics = event.topics.joined(separator: " ")
        // The stream's next version is worked out in the same statement.
        guard
            let row = try await sql.raw(
                """
                INSERT INTO events (tenant, stream, version, type, topics, data, time_ms)
                SELECT \(bind: event.tenant), \(bind: event.stream), COALESCE(MAX(version), 0) + 1, \(bind: event.type), \(bind: topics),
                       \(bind: event.data), \(bind: timeMs)
                FROM events WHERE stream = \(bind: event.stream)
                RETURNING seq, version
                """
            ).first()
        else {
            throw DatabaseUnavailable("the database did not return the new event's sequence")
        }
        let version = try row.decode(column: "version", as: Int64.self)
        let stored = StoredEvent(
            sequence: try row.decode(column: "seq", as: Int64.self),
            tenant: event.tenant,
            stream: event.stream,
            version: version,
            type: event.type,
            topics: event.topics,
            data: event.data,
            timeMs: timeMs
        )
        appended.append(stored)
        return stored
    }
}

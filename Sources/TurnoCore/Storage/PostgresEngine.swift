import Logging
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// PostgreSQL shared by every node, through a pooled `PostgresClient`.
public final class PostgresEngine: DatabaseEngine {
    public let kind = DatabaseKind.postgres
    public let location: PostgresLocation
    let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    /// Key of the session-level advisory lock held while migrations run.
    static let migrationLockKey: Int64 = 0x7475_726E_6F00_0001
    /// How long a request waits for a connection before it is told the database is unavailable (503): while
    /// PostgreSQL is down the pool keeps trying to connect, and nobody should wait for that unbounded.
    static let leaseTimeout: Duration = .seconds(5)
    /// The longest one statement may run (PostgreSQL's `statement_timeout`, lock waits included).
    static let statementTimeout = "30s"

    /// Connects and checks that the server answers within `timeout`.
    public static func open(_ location: PostgresLocation, poolSize: Int = 16, timeout: Duration = .seconds(5), logger: Logger) async throws -> PostgresEngine {
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = timeout
        configuration.options.additionalStartupParameters.append(("statement_timeout", statementTimeout))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let engine = PostgresEngine(location: location, client: client, logger: logger)
        do {
            try await withTimeout(timeout) { try await engine.ping() }
        } catch {
            await engine.close()
            throw DatabaseUnavailable("cannot reach PostgreSQL at \(location.host):\(location.port)/\(location.database): \(describe(error))")
        }
        return engine
    }

    private init(location: PostgresLocation, client: PostgresClient, logger: Logger) {
        self.location = location
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withLeasedConnection { connection in
            let database = connection.sql()
            try await database.raw("BEGIN").run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                return value
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withLeasedConnection { connection in
            try await body(connection.sql())
        }
    }

    /// Runs `operation` on a pooled connection. Waiting for the connection is bounded by `leaseTimeout`; a lost
    /// connection or an unreachable server becomes `DatabaseUnavailable` (503 with `Retry-After`), whatever step it hit.
    private func withLeasedConnection<T: Sendable>(_ operation: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await withoutActuallyEscaping(operation) { operation in
                // The group is awaited before this returns, so the closure neither outlives its scope nor runs beside its owner.
                let body = UncheckedSendable(operation)
                let leased = LeaseFlag()
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    let client = self.client
                    group.addTask {
                        try await client.withConnection { connection in
                            leased.value.store(true, ordering: .relaxed)
                            return try await body.value(connection)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: Self.leaseTimeout)
                        if leased.value.load(ordering: .relaxed) { return nil }
                        throw DatabaseUnavailable("no PostgreSQL connection within \(Self.leaseTimeout)")
                    }
                    while let result = try await group.next() {
                        if let value = result {
                            group.cancelAll()
                            return value
                        }
                    }
                    throw DatabaseUnavailable("the database operation ended without a result")
                }
            }
        } catch let error where Self.isUnavailable(error) {
            throw DatabaseUnavailable(Self.describe(error))
        }
    }

    /// Whether `error` says the server cannot be reached (rather than that a statement was refused).
    static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // Class 08: connection exception; 57P01–57P03: shutting down or starting up; 53300: too many connections.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }

    public func withExclusiveLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let database = connection.sql()
            try await database.raw("SELECT pg_advisory_lock(\(bind: Self.migrationLockKey))").run()
            do {
                let value = try await body()
                try await database.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLockKey))").run()
                return value
            } catch {
                try? await database.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLockKey))").run()
                throw error
            }
        }
    }

    public func ping() async throws {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT 1", logger: logger)
        }
    }

    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    /// One line that says what went wrong talking to PostgreSQL: the code, the server's message and state, the
    /// underlying error — never the query's bound values, which may hold secrets.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let state = error.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
            if let underlying = error.underlying { parts.append(String(reflecting: underlying)) }
            return parts.joined(separator: ": ")
        }
        if let error = error as? DatabaseUnavailable { return error.description }
        if error is TimeoutError { return "no answer in time" }
        return String(reflecting: error)
    }
}

/// Set once a connection has been leased: the lease timeout no longer applies.
private final class LeaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}

import Logging
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL shared by every node, through a pooled `PostgresClient`.
public final class PostgresEngine: DatabaseEngine {
    public let kind = DatabaseKind.postgres
    public let location: PostgresLocation
    let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    /// Key of the session-level advisory lock held while migrations run.
    static let migrationLockKey: Int64 = 0x7475_726E_6F00_0001

    /// Connects and checks that the server answers within `timeout`.
    public static func open(_ location: PostgresLocation, poolSize: Int = 16, timeout: Duration = .seconds(5), logger: Logger) async throws -> PostgresEngine {
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = timeout
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
        try await client.withConnection { connection in
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
        try await client.withConnection { connection in
            try await body(connection.sql())
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

    /// One line that says what went wrong talking to PostgreSQL, without the driver's internals.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        if error is TimeoutError { return "no answer in time" }
        return "\(error)"
    }
}

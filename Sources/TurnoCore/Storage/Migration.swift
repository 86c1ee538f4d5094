import Logging
import SQLKit

/// One versioned step of a module's schema. Versions are per module and applied in increasing order.
public struct Migration: Sendable {
    public let module: String
    public let version: Int
    public let name: String
    /// The statements for a dialect; most are the same on both.
    public let statements: @Sendable (DatabaseKind) -> [String]

    public init(module: String, version: Int, name: String, statements: @escaping @Sendable (DatabaseKind) -> [String]) {
        self.module = module
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Applies migrations that are not yet recorded in `schema_migrations`, each in its own transaction,
/// under a lock so that several nodes starting at once apply each migration exactly once.
public struct Migrator: Sendable {
    let engine: any DatabaseEngine
    let logger: Logger
    let clock: any ServerClock

    public init(engine: any DatabaseEngine, logger: Logger, clock: any ServerClock = SystemClock()) {
        self.engine = engine
        self.logger = logger
        self.clock = clock
    }

    /// Returns the migrations applied by this call (empty when the schema was already up to date).
    @discardableResult
    public func apply(_ migrations: [Migration]) async throws -> [Migration] {
        try await engine.withExclusiveLock {
            try await engine.transaction { database in
                try await database.raw(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        module TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        applied_at_ms BIGINT NOT NULL,
                        PRIMARY KEY (module, version)
                    )
                    """
                ).run()
            }
            let ordered = migrations.sorted { ($0.module, $0.version) < ($1.module, $1.version) }
            var applied: [Migration] = []
            for migration in ordered {
                let didApply = try await engine.transaction { database in
                    let existing = try await database.raw(
                        """
                        SELECT version FROM schema_migrations WHERE module = \(bind: migration.module) AND version = \(bind: migration.version)
                        """
                    ).first()
                    guard existing == nil else { return false }
                    for statement in migration.statements(engine.kind) {
                        try await database.raw(SQLQueryString(statement)).run()
                    }
                    try await database.raw(
                        """
                        INSERT INTO schema_migrations (module, version, name, applied_at_ms)
                        VALUES (\(bind: migration.module), \(bind: migration.version), \(bind: migration.name), \(bind: clock.nowMilliseconds()))
                        """
                    ).run()
                    return true
                }
                if didApply {
                    logger.info(
                        "applied migration",
                        metadata: ["module": "\(migration.module)", "version": "\(migration.version)", "name": "\(migration.name)"]
                    )
                    applied.append(migration)
                }
            }
            return applied
        }
    }
}

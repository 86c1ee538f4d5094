import Foundation
import Logging
import PostgresNIO
import SQLKit
import Testing

@testable import TurnoCore

/// A fresh, empty database of each kind this run has (PostgreSQL when `scripts/test` provides a cluster).
enum FreshDatabase: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
    static let postgresURL = ProcessInfo.processInfo.environment["TURNO_TEST_POSTGRES_URL"]
    static var available: [FreshDatabase] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    func makeLocation() async throws -> DatabaseLocation {
        switch self {
        case .sqlite:
            return .sqlite(path: FileManager.default.temporaryDirectory.appendingPathComponent("turno-core-\(UUID().uuidString)/t.sqlite").path)
        case .postgres:
            var location = try PostgresLocation(parsing: Self.postgresURL!)
            let name = "c_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let connection = try await PostgresConnection.connect(configuration: location.connectionConfiguration, id: 1, logger: Logger(label: "test"))
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
            try await connection.close()
            location.database = name
            return .postgres(location)
        }
    }
}

/// Collects what the event feed hands over.
actor CollectingConsumer: EventConsumer {
    private(set) var events: [StoredEvent] = []
    func consume(_ events: [StoredEvent]) { self.events.append(contentsOf: events) }
}

@Suite("Storage: migrations and the event log")
struct StorageTests {
    let logger = Logger(label: "test")

    static let sample = Migration(module: "sample", version: 1, name: "widgets") { _ in
        ["CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"]
    }
    static let sampleNext = Migration(module: "sample", version: 2, name: "widget colour") { _ in
        ["ALTER TABLE widgets ADD COLUMN colour TEXT"]
    }

    @Test("migrations apply to an empty database, in order, and a second time without error", arguments: FreshDatabase.available)
    func migrationsTwice(database: FreshDatabase) async throws {
        let location = try await database.makeLocation()
        let first = try await Storage.open(location, migrations: [Self.sampleNext, Self.sample], logger: logger)
        let recorded = try await first.read { sql in
            try await sql.raw("SELECT module, version FROM schema_migrations ORDER BY module, version").all().map {
                "\(try $0.decode(column: "module", as: String.self)):\(try $0.decode(column: "version", as: Int.self))"
            }
        }
        #expect(recorded == ["core:1", "core:2", "core:3", "core:4", "core:5", "sample:1", "sample:2"])
        try await first.write { transaction in
            try await transaction.sql.raw("INSERT INTO widgets (id, name, colour) VALUES (1, 'a', 'red')").run()
        }
        await first.close()

        let second = try await Storage.open(location, migrations: [Self.sample, Self.sampleNext], logger: logger)
        let again = try await Migrator(engine: second.engine, logger: logger).apply([Self.sample, Self.sampleNext])
        #expect(again.isEmpty)
        let count = try await second.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM widgets").first()?.decode(column: "n", as: Int.self)
        }
        #expect(count == 1)
        await second.close()
    }

    @Test(
        "several nodes migrating one PostgreSQL database at once apply each migration exactly once",
        .enabled(if: FreshDatabase.postgresURL != nil, "needs the PostgreSQL cluster that scripts/test starts")
    )
    func concurrentMigrations() async throws {
        let location = try await FreshDatabase.postgres.makeLocation()
        let opened = try await withThrowingTaskGroup(of: Storage.self) { group in
            for _ in 0..<4 {
                group.addTask { try await Storage.open(location, migrations: [Self.sample, Self.sampleNext], logger: logger) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let rows = try await opened[0].read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()?.decode(column: "n", as: Int.self)
        }
        #expect(rows == 7)
        for storage in opened { await storage.close() }
    }

    @Test("events get per-stream versions; a rolled-back transaction leaves no event and no change", arguments: FreshDatabase.available)
    func eventLog(database: FreshDatabase) async throws {
        struct Abort: Error {}
        let storage = try await Storage.open(try await database.makeLocation(), migrations: [Self.sample], logger: logger)
        let first = try await storage.write { transaction in
            try await transaction.sql.raw("INSERT INTO widgets (id, name) VALUES (1, 'a')").run()
            return try await transaction.append(NewEvent(tenant: 1, stream: "widget:1", type: "widget.created", topics: ["w"], json: "{}"))
        }
        await #expect(throws: Abort.self) {
            try await storage.write { transaction in
                try await transaction.sql.raw("INSERT INTO widgets (id, name) VALUES (2, 'b')").run()
                try await transaction.append(NewEvent(tenant: 1, stream: "widget:1", type: "widget.renamed", topics: ["w"], json: "{}"))
                throw Abort()
            }
        }
        let second = try await storage.write { transaction in
            try await transaction.append(NewEvent(tenant: 1, stream: "widget:1", type: "widget.renamed", topics: ["w"], json: #"{"name":"z"}"#))
        }
        let other = try await storage.write { transaction in
            try await transaction.append(NewEvent(tenant: 1, stream: "widget:9", type: "widget.created", topics: ["w"], json: "{}"))
        }
        #expect([first.version, second.version, other.version] == [1, 2, 1])
        #expect(first.sequence < second.sequence && second.sequence < other.sequence)
        let stored = try await storage.events(after: 0, limit: 100)
        #expect(stored == [first, second, other])
        let widgets = try await storage.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM widgets").first()?.decode(column: "n", as: Int.self)
        }
        #expect(widgets == 1)
        #expect(try await storage.latestSequence() == other.sequence)
        await storage.close()
    }

    @Test("the event feed hands every committed event to its consumers in order, across concurrent writers", arguments: FreshDatabase.available)
    func feedDeliversInOrder(database: FreshDatabase) async throws {
        let storage = try await Storage.open(try await database.makeLocation(), migrations: [], logger: logger)
        let consumer = CollectingConsumer()
        let feed = EventFeed(storage: storage, consumers: [consumer], startAfter: 0, logger: logger, pollInterval: .milliseconds(100))
        let feedTask = Task { try await feed.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<25 {
                        _ = try await storage.write { transaction in
                            try await transaction.append(NewEvent(tenant: 1, stream: "w:\(writer)", type: "n", topics: ["t"], json: #"{"i":\#(index)}"#))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        var delivered: [StoredEvent] = []
        for _ in 0..<100 {
            delivered = await consumer.events
            if delivered.count >= 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        feedTask.cancel()
        #expect(delivered.count == 200)
        #expect(delivered.map(\.sequence) == delivered.map(\.sequence).sorted())
        #expect(Set(delivered.map(\.sequence)).count == 200)
        for writer in 0..<8 {
            #expect(delivered.filter { $0.stream == "w:\(writer)" }.map(\.version) == Array(1...25))
        }
        await storage.close()
    }
}

import ArgumentParser
import Fleet
import Foundation
import Logging
import Queues
import ServiceLifecycle
import Sessions
import TurnoCore
import TurnoServer

/// A year of a busy branch: how fast reports over it answer, and what keeping the report cells adds to finishing a
/// ticket, against a server that keeps none, measured in the same run.
struct BenchReports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Report answer times over a year of a busy branch; finishing a ticket with and without the report cells."
    )

    @Option(help: "Database for the year of reports (default: a new SQLite file in a temporary folder).")
    var database: String?
    @Option(help: "Two empty databases of the same kind, comma-separated, for the finishing runs with and without cells (default: new SQLite files).")
    var finishDatabases: String?
    @Option(help: "Days of history.")
    var days = 365
    @Option(help: "Tickets a day.")
    var ticketsPerDay = 1_000
    @Option(help: "Requests per report.")
    var requests = 200
    @Option(help: "Finishes per server per round.")
    var finishes = 200
    @Option(help: "Rounds, alternating between the two servers.")
    var rounds = 3

    static let password = "bench-admin-password"

    func run() async throws {
        let year = try await InProcessServer.start(database: database, modules: turnoModules)
        do {
            try await measureReports(year)
        } catch {
            await year.stop()
            throw error
        }
        await year.stop()
        let databases: [String?] = finishDatabases.map { $0.split(separator: ",").map(String.init) } ?? [nil, nil]
        guard databases.count == 2 else { throw Failure("--finish-databases takes two databases, comma-separated") }
        let kept = try await InProcessServer.start(database: databases[0], modules: turnoModules)
        let baseline = try await InProcessServer.start(
            database: databases[1],
            modules: [QueuesModule(keepsReportCells: false), FleetModule(), SessionsModule()]
        )
        do {
            try await measureFinishing(kept: kept, baseline: baseline)
        } catch {
            await kept.stop()
            await baseline.stop()
            throw error
        }
        await kept.stop()
        await baseline.stop()
    }

    func measureReports(_ server: InProcessServer) async throws {
        let api = APIClient(base: server.url)
        do {
            try await measureReports(server, api: api)
        } catch {
            try await api.shutdown()
            throw error
        }
        try await api.shutdown()
    }

    func measureReports(_ server: InProcessServer, api: APIClient) async throws {
        try await api.signIn(username: "admin", password: Self.password)
        let branch = try await api.post("/api/v1/branches", ["name": "Busy", "time_zone": "Europe/Rome"])["id"] as! Int
        var services: [Int64] = []
        for (name, prefix) in [("Parcels", "A"), ("Bills", "B"), ("Pensions", "C"), ("Accounts", "D")] {
            services.append(Int64(try await api.post("/api/v1/branches/\(branch)/services", ["name": name, "prefix": prefix])["id"] as! Int))
        }
        var queues: [Int64] = []
        var users: [Int64] = []
        for counter in 1...8 {
            queues.append(
                Int64(
                    try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk \(counter)", "counter": "\(counter)", "services": services])["id"]
                        as! Int
                )
            )
            let user =
                ["username": "operator-\(counter)", "password": "operator-password-\(counter)", "role": "operator", "branch_ids": [branch]] as [String: Any]
            users.append(Int64(try await api.post("/api/v1/users", user)["id"] as! Int))
        }
        let today = LocalDay.of(Int64(Date().timeIntervalSince1970 * 1000), timeZone: "Europe/Rome")
        let seeding = ContinuousClock.now
        try await SyntheticHistory.seed(
            store: QueueStore(storage: server.platform.storage),
            branchID: Int64(branch),
            timeZone: "Europe/Rome",
            serviceIDs: services,
            queueIDs: queues,
            userIDs: users,
            days: days,
            ticketsPerDay: ticketsPerDay,
            lastDay: today
        )
        let rows = try await server.platform.storage.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM report_cells").first()?.decode(column: "n", as: Int.self) ?? 0
        }
        print(
            "seeded \(days) days × \(ticketsPerDay) tickets into \(rows) cell rows in \(String(format: "%.1f", Double((ContinuousClock.now - seeding).nanoseconds) / 1e9)) s"
        )
        let first = CalendarDays.adding(-(days - 1), to: today)!
        let monthStart = CalendarDays.adding(-29, to: today)!
        let reports = [
            ("a year by day", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=day"),
            ("a year by hour", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=hour"),
            ("a year by weekday", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=weekday"),
            ("a year by service", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=service"),
            ("a year by counter", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=counter"),
            ("a year by operator", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&group=operator"),
            ("a year, one operator by day", "/api/v1/reports?branch=\(branch)&from=\(first)&to=\(today)&operator=\(users[0])"),
            ("30 days by day", "/api/v1/reports?branch=\(branch)&from=\(monthStart)&to=\(today)&group=day"),
            ("30 days as PDF", "/api/v1/reports.pdf?branch=\(branch)&from=\(monthStart)&to=\(today)&group=day"),
            ("a year as CSV by day", "/api/v1/reports.csv?branch=\(branch)&from=\(first)&to=\(today)&group=day"),
        ]
        for (name, path) in reports {
            for _ in 0..<5 { _ = try await api.send(.GET, path) }
            var samples: [Double] = []
            for _ in 0..<requests {
                let start = ContinuousClock.now
                _ = try await api.send(.GET, path)
                samples.append(Double((ContinuousClock.now - start).nanoseconds) / 1e6)
            }
            print("\(name): \(Summary(samples))")
        }
    }

    /// Issue, call, then time the finish, alternating rounds between the server that keeps the cells and the one that
    /// does not, so drift of the machine falls on both.
    func measureFinishing(kept: InProcessServer, baseline: InProcessServer) async throws {
        struct Counter {
            let name: String
            let api: APIClient
            let branch: Int
            let service: Int
            let queue: Int
        }
        var counters: [Counter] = []
        for (name, server) in [("with report cells", kept), ("without", baseline)] {
            let api = APIClient(base: server.url)
            try await api.signIn(username: "admin", password: Self.password)
            let branch = try await api.post("/api/v1/branches", ["name": "Finishing"])["id"] as! Int
            let service = try await api.post("/api/v1/branches/\(branch)/services", ["name": "Parcels", "prefix": "A"])["id"] as! Int
            let queue = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk", "counter": "1", "services": [service]])["id"] as! Int
            counters.append(Counter(name: name, api: api, branch: branch, service: service, queue: queue))
        }
        var samples: [String: [Double]] = [:]
        for round in 0...rounds {
            for counter in counters {
                for _ in 0..<finishes {
                    let ticket = try await counter.api.post("/api/v1/branches/\(counter.branch)/tickets", ["service": counter.service])["id"] as! Int
                    try await counter.api.post("/api/v1/queues/\(counter.queue)/call-next", [:])
                    let start = ContinuousClock.now
                    try await counter.api.post("/api/v1/tickets/\(ticket)/finish", [:])
                    // Round 0 warms both servers up and is not counted.
                    if round > 0 { samples[counter.name, default: []].append(Double((ContinuousClock.now - start).nanoseconds) / 1e6) }
                }
            }
        }
        let with = Summary(samples["with report cells"] ?? [])
        let without = Summary(samples["without"] ?? [])
        print("finish, with report cells: \(with)")
        print("finish, without: \(without)")
        let p50 = (with.percentile(0.5) / without.percentile(0.5) - 1) * 100
        let p99 = (with.percentile(0.99) / without.percentile(0.99) - 1) * 100
        print(String(format: "finishing with the cells takes %+.1f %% at p50, %+.1f %% at p99", p50, p99))
        for counter in counters { try await counter.api.shutdown() }
    }
}

/// A server in this process on a loopback port, for the benchmarks that measure it from the inside.
struct InProcessServer: Sendable {
    let platform: Platform
    let port: Int
    let task: Task<Void, any Error>
    let group: ServiceGroup

    var url: String { "http://127.0.0.1:\(port)" }

    /// `database`, or a new SQLite file in a temporary folder.
    static func location(_ database: String?) throws -> DatabaseLocation {
        try DatabaseLocation(parsing: database ?? "sqlite://\(FileManager.default.temporaryDirectory.path)/turno-bench-\(UUID().uuidString)/turno.sqlite")
    }

    /// A server on `database` (by default a new SQLite file) whose admin's password is `BenchReports.password`.
    static func start(database: String?, modules: [any TurnoModule]) async throws -> InProcessServer {
        let settings = ServerSettings(
            port: 0,
            database: try location(database),
            logLevel: "warning",
            identity: IdentitySettings(adminPassword: BenchReports.password),
            rateLimits: .off
        )
        return try await start(settings: settings, modules: modules)
    }

    static func start(settings: ServerSettings, modules: [any TurnoModule]) async throws -> InProcessServer {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let platform = try await Platform.open(settings: settings, modules: modules, logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildApplication(platform: platform, modules: modules) { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: platform.services(around: app), logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw Failure("the server did not start") }
        return InProcessServer(platform: platform, port: port, task: task, group: group)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

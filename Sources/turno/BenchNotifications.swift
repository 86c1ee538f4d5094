import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization
import TurnoCore
import TurnoServer

#if canImport(Glibc)
import Glibc
#endif

/// One call heard by many webhook endpoints: how long from the call's answer until each endpoint has it (a local
/// receiver stands for them all); and what following tickets adds to a call, against calls with no followers, in the
/// same run.
struct BenchNotifications: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "Webhook fan-out of one call to many endpoints (end-to-end latency); the cost of near-turn checks on calls."
    )

    @Option(help: "Database (default: a new SQLite file in a temporary folder).")
    var database: String?
    @Option(help: "Webhook endpoints that each hear every call.")
    var endpoints = 10_000
    @Option(help: "Calls whose fan-out is measured.")
    var rounds = 3
    @Option(help: "Waiting tickets followed by push, for the near-turn cost.")
    var followers = 1_000
    @Option(help: "Calls timed with and without followers.")
    var calls = 200

    func run() async throws {
        let receiver = try await Receiver.start()
        let server = try await InProcessServer.start(database: database, modules: turnoModules)
        let api = APIClient(base: server.url)
        do {
            try await api.signIn(username: "admin", password: BenchReports.password)
            try await measureFanOut(server, api: api, receiver: receiver)
            try await measureNearTurnChecks(server, api: api, receiver: receiver)
        } catch {
            try? await api.shutdown()
            await server.stop()
            await receiver.stop()
            throw error
        }
        try await api.shutdown()
        await server.stop()
        await receiver.stop()
    }

    func measureFanOut(_ server: InProcessServer, api: APIClient, receiver: Receiver) async throws {
        let branch = try await api.post("/api/v1/branches", ["name": "Fan-out", "time_zone": "Europe/Rome"])["id"] as! Int
        let service = try await api.post("/api/v1/branches/\(branch)/services", ["name": "Parcels", "prefix": "A"])["id"] as! Int
        let queue = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk", "counter": "1", "services": [service]])["id"] as! Int
        // The endpoints are written straight into the table: making 10,000 through the API is not what is measured.
        let seeding = ContinuousClock.now
        try await server.platform.storage.write { transaction in
            for start in stride(from: 0, to: endpoints, by: 500) {
                var insert = transaction.sql.insert(into: "webhook_endpoints")
                    .columns("organization_id", "url", "description", "event_types", "secret", "enabled", "created_at_ms", "updated_at_ms")
                for index in start..<min(start + 500, endpoints) {
                    insert = insert.values(
                        SQLBind(Int64(1)),
                        SQLBind("\(receiver.url)/\(index)"),
                        SQLBind("bench"),
                        SQLBind("ticket.called"),
                        SQLBind("whsec_bench\(index)"),
                        SQLBind(1),
                        SQLBind(transaction.timeMs),
                        SQLBind(transaction.timeMs)
                    )
                }
                try await insert.run()
            }
        }
        print("notifications: \(endpoints) endpoints subscribed to ticket.called in \(format(ContinuousClock.now - seeding))")
        var worst = 0.0
        for round in 1...rounds {
            _ = try await api.post("/api/v1/branches/\(branch)/tickets", ["service": service])
            receiver.reset()
            let before = Date().timeIntervalSince1970 * 1000
            _ = try await api.post("/api/v1/queues/\(queue)/call-next", [:])
            let answered = Date().timeIntervalSince1970 * 1000
            let deadline = ContinuousClock.now + .seconds(120)
            while receiver.count < endpoints, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let latencies = receiver.times.map { $0 - answered }.sorted()
            guard latencies.count == endpoints else { throw Failure("only \(latencies.count) of \(endpoints) endpoints heard the call within 120 s") }
            let p50 = Percentile.nearestRank(0.5, of: latencies)!
            let p99 = Percentile.nearestRank(0.99, of: latencies)!
            worst = max(worst, p99)
            print(
                "notifications: round \(round): the call answered in \(Int(answered - before)) ms; \(endpoints) endpoints heard it p50 \(Int(p50)) ms, p99 \(Int(p99)) ms, last \(Int(latencies.last!)) ms after"
            )
            _ = try await api.post("/api/v1/queues/\(queue)/call-next", [:])
        }
        print("notifications: fan-out p99 (worst round) \(Int(worst)) ms (goal ≤ 2000 ms)")
        // The endpoints go, so that they do not hear the next measurement's calls.
        try await server.platform.storage.write { transaction in try await transaction.sql.raw("DELETE FROM webhook_endpoints").run() }
    }

    /// CPU time per call (the server's and its notifier's, all in this process) over `calls` calls, at a branch where
    /// `followers` tickets far back in the line are followed (so each call checks them, and none is near enough to be
    /// told) against one where none are, alternating.
    func measureNearTurnChecks(_ server: InProcessServer, api: APIClient, receiver: Receiver) async throws {
        var perCall: [Bool: [Double]] = [:]
        for (index, followed) in [false, true, false, true].enumerated() {
            let branch = try await api.post("/api/v1/branches", ["name": "Near \(index)", "time_zone": "Europe/Rome"])["id"] as! Int
            let service = try await api.post("/api/v1/branches/\(branch)/services", ["name": "Parcels", "prefix": "A"])["id"] as! Int
            let queue = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk", "counter": "1", "services": [service]])["id"] as! Int
            // Near by count only: the bench's counter serves in no time, so by minutes every ticket in the line would be near.
            let alerts: [String: Any] = ["near_ahead": 3, "push": true, "telegram": true, "email": true, "texts": [String: Any]()]
            _ = try await api.send(.PUT, "/api/v1/branches/\(branch)/alerts", json: try JSONSerialization.data(withJSONObject: alerts))
            var tokens: [String] = []
            for _ in 0..<(calls + 10 + followers) {
                tokens.append(try await api.post("/api/v1/branches/\(branch)/tickets", ["service": service])["token"] as! String)
            }
            if followed {
                let key = server.platform.vapidKey.publicKey
                for token in tokens.suffix(followers) {
                    let subscription: [String: Any] = ["endpoint": receiver.url + "/push", "keys": ["p256dh": key, "auth": "AAAAAAAAAAAAAAAAAAAAAA"]]
                    _ = try await api.post("/api/v1/tickets/\(token)/followers", ["channel": "push", "subscription": subscription])
                }
            }
            // The followers' confirmations go out before the measurement, which is about the calls alone.
            try await drainNotifications(server, sent: true)
            let before = Self.cpuMicroseconds()
            for _ in 0..<calls {
                _ = try await api.post("/api/v1/queues/\(queue)/call-next", [:])
            }
            try await drainNotifications(server)
            perCall[followed, default: []].append((Self.cpuMicroseconds() - before) / Double(calls))
        }
        let plain = perCall[false]!.min()!
        let followed = perCall[true]!.min()!
        print(
            "notifications: CPU per call, its events planned: \(Int(plain)) µs with no followers, \(Int(followed)) µs with \(followers) followed tickets checked, near when 3 or fewer are ahead (\(String(format: "%+.1f", (followed / plain - 1) * 100))%; goal ≤ +5%)"
        )
    }

    /// This process's CPU time so far (user and system), in microseconds.
    static func cpuMicroseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec)
        let system = Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec)
        return user + system
    }

    /// Waits until the notifier has planned every committed event (its loop runs on this node).
    /// With `sent`, also until no notification is waiting to go out.
    private func drainNotifications(_ server: InProcessServer, sent: Bool = false) async throws {
        let storage = server.platform.storage
        let head = try await storage.latestSequence()
        while try await server.platform.notifier.store.plannedUpTo() < head { try await Task.sleep(for: .milliseconds(1)) }
        while sent,
            try await storage.read({ sql in
                try await sql.raw("SELECT COUNT(*) AS pending FROM notifications WHERE state = 'pending'").first()?.decode(column: "pending", as: Int.self)
            }) ?? 0 > 0
        {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func format(_ duration: Duration) -> String {
        "\(Int(duration / .milliseconds(1))) ms"
    }
}

/// A local HTTP server standing for every webhook endpoint and push service: it notes when each request arrives.
final class Receiver: Sendable {
    private let received = Mutex<[Double]>([])
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)" }
    var count: Int { received.withLock { $0.count } }
    var times: [Double] { received.withLock { $0 } }

    func reset() {
        received.withLock { $0 = [] }
    }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    static func start() async throws -> Receiver {
        let box = Mutex<Receiver?>(nil)
        let router = Router()
        router.post("/**") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            let now = Date().timeIntervalSince1970 * 1000
            if request.uri.path != "/push" { box.withLock { $0 }?.received.withLock { $0.append(now) } }
            return Response(status: .noContent)
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "Receiver"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw Failure("the receiver did not start") }
        let receiver = Receiver(port: port, group: group, task: task)
        box.withLock { $0 = receiver }
        return receiver
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import TurnoCore

/// Measures the queue engine of a running server over its public API: how long a call takes to reach the
/// ticket pages that follow it, and how long closing a counter with many waiting tickets takes.
/// It signs in as an admin and sets up branches of its own, so it can run against any server.
struct BenchQueues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Call-next → ticket page push latency, and closing a queue that holds many waiting tickets."
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "An admin's username.")
    var username = "admin"
    @Option(help: "The admin's password.")
    var password: String
    @Option(help: "Calls to time.")
    var calls = 200
    @Option(help: "Waiting tickets in the queue that is closed.")
    var waiting = 1_000

    func run() async throws {
        let api = APIClient(base: url)
        do {
            try await api.signIn(username: username, password: password)
            try await measurePushLatency(api)
            try await measureClose(api)
        } catch {
            try await api.shutdown()
            throw error
        }
        try await api.shutdown()
    }

    /// One counter, two waiting tickets, both followed over one WebSocket: call-next, then time until the called
    /// ticket's page hears `ticket.called` and the other one hears that it is now first.
    func measurePushLatency(_ api: APIClient) async throws {
        let branch = try await api.post("/api/v1/branches", ["name": "Bench push \(UUID().uuidString.prefix(8))"])["id"] as! Int
        let service = try await api.post("/api/v1/branches/\(branch)/services", ["name": "Parcels", "prefix": "P"])["id"] as! Int
        let queue = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk", "counter": "1", "services": [service]])["id"] as! Int
        var called: [Double] = []
        var moved: [Double] = []
        for _ in 0..<calls {
            let first = try await api.post("/api/v1/branches/\(branch)/tickets", ["service": service])
            let second = try await api.post("/api/v1/branches/\(branch)/tickets", ["service": service])
            let tokens = [first["token"] as! String, second["token"] as! String]
            let wsURL = url.replacingOccurrences(of: "http", with: "ws") + "/live/ws?topics=ticket:\(tokens[0]),ticket:\(tokens[1])"
            let timings = try await followCall(wsURL: wsURL) {
                _ = try await api.post("/api/v1/queues/\(queue)/call-next", [:])
            }
            called.append(timings.called)
            moved.append(timings.moved)
            // Calls the second, which finishes the first; then finishes the second: the counter is empty again.
            let next = try await api.post("/api/v1/queues/\(queue)/call-next", [:])
            _ = try await api.post("/api/v1/tickets/\(next["id"] as! Int)/finish", [:])
        }
        print("call-next → ticket.called on the called ticket's page (\(calls) calls): \(Summary(called))")
        print("call-next → ticket.position on the next ticket's page: \(Summary(moved))")
    }

    struct CallTimings {
        var called: Double
        var moved: Double
    }

    /// Connects, waits until the server has the subscription, runs `call` and times the two pushes from its start.
    func followCall(wsURL: String, call: @escaping @Sendable () async throws -> Void) async throws -> CallTimings {
        var logger = Logger(label: "bench-client")
        logger.logLevel = .critical
        let result = Mutex<CallTimings?>(nil)
        _ = try await WebSocketClient.connect(url: wsURL, logger: logger) { inbound, outbound, _ in
            // The upgrade has completed, so the hub has the subscription; give its registration a moment anyway.
            try await Task.sleep(for: .milliseconds(20))
            let start = ContinuousClock.now
            let caller = Task { try await call() }
            var calledAt: Double?
            var movedAt: Double?
            for try await message in inbound.messages(maxSize: 1 << 16) {
                guard case .text(let text) = message else { continue }
                let elapsed = Double((ContinuousClock.now - start).nanoseconds) / 1e6
                if text.contains(#""type":"ticket.called""#) { calledAt = calledAt ?? elapsed }
                if text.contains(#""type":"ticket.position""#), text.contains(#""position":1"#) { movedAt = movedAt ?? elapsed }
                if let calledAt, let movedAt {
                    result.withLock { $0 = CallTimings(called: calledAt, moved: movedAt) }
                    break
                }
            }
            try await caller.value
            try await outbound.close(.normalClosure, reason: nil)
        }
        guard let timings = result.withLock({ $0 }) else { throw Failure("the ticket pages did not hear the call") }
        return timings
    }

    /// Two counters; the second paused while `waiting` tickets are issued to the first, then opened; the first is
    /// closed and every ticket moves. Times the close request.
    func measureClose(_ api: APIClient) async throws {
        let branch = try await api.post("/api/v1/branches", ["name": "Bench close \(UUID().uuidString.prefix(8))"])["id"] as! Int
        let service = try await api.post("/api/v1/branches/\(branch)/services", ["name": "Parcels", "prefix": "C"])["id"] as! Int
        let closing = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk 1", "counter": "1", "services": [service]])["id"] as! Int
        let taking = try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk 2", "counter": "2", "services": [service]])["id"] as! Int
        _ = try await api.post("/api/v1/queues/\(taking)/pause", [:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for _ in stride(from: worker, to: waiting, by: 8) {
                        _ = try await api.post("/api/v1/branches/\(branch)/tickets", ["service": service])
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await api.post("/api/v1/queues/\(taking)/open", [:])
        let start = ContinuousClock.now
        let answer = try await api.post("/api/v1/queues/\(closing)/close", [:])
        let elapsed = Double((ContinuousClock.now - start).nanoseconds) / 1e6
        let moved = (answer["reallocated"] as? [Any])?.count ?? 0
        print(String(format: "closing a queue with %d waiting: %.1f ms, %d tickets reallocated", waiting, elapsed, moved))
        guard moved == waiting else { throw Failure("expected \(waiting) reallocated tickets, got \(moved)") }
    }
}

/// p50 / p99 / max of a set of milliseconds.
struct Summary: CustomStringConvertible {
    let sorted: [Double]

    init(_ samples: [Double]) {
        sorted = samples.sorted()
    }

    func percentile(_ p: Double) -> Double {
        Percentile.nearestRank(p, of: sorted) ?? .nan
    }

    var description: String {
        String(format: "p50 %.2f ms · p99 %.2f ms · max %.2f ms", percentile(0.5), percentile(0.99), sorted.last ?? .nan)
    }
}

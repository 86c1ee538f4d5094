import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import ServiceLifecycle
import Synchronization
import TurnoCore
import TurnoServer

/// Measurements of the platform itself; `scripts/bench` runs them and BENCHMARKS.md records the figures.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the platform (event throughput, push latency, live connections) and the queue engine.",
        subcommands: [
            BenchEvents.self, BenchConnections.self, BenchQueues.self, BenchReports.self, BenchDispatch.self, BenchNotifications.self, BenchForecast.self,
        ]
    )
}

/// Starts a server in this process, connects WebSocket subscribers to it over loopback, commits events
/// and measures commit throughput and the time from publishing an event to each subscriber receiving it.
struct BenchEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Events published per second and publish → WebSocket receipt latency."
    )

    @Option(help: "Database (default: a new SQLite file in a temporary folder).")
    var database: String?
    @Option(help: "WebSocket subscribers, all following one topic.")
    var subscribers = 1
    @Option(help: "Events to publish.")
    var events = 1_000
    @Option(help: "Events per second; 0 publishes as fast as the writers can.")
    var rate = 0
    @Option(help: "Concurrent publishing tasks.")
    var writers = 4
    @Option(help: "Write the results as JSON to this file.")
    var out: String?

    func run() async throws {
        let location = try InProcessServer.location(database)
        let settings = ServerSettings(port: 0, database: location, logLevel: "warning", liveClientBuffer: max(1_000, events + 10), rateLimits: .off)
        let server = try await InProcessServer.start(settings: settings, modules: turnoModules)
        let platform = server.platform
        let port = server.port

        let origin = ContinuousClock.now
        let latencies = Samples()
        let since = await platform.hub.latestSequence
        let url = "ws://127.0.0.1:\(port)/live/ws?topics=bench&since=\(since)"
        let expected = events
        let hub = platform.hub
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<subscribers {
                    // At most 256 handshakes in flight at once.
                    while await index - hub.subscriberCount >= 256 {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    group.addTask { await Self.follow(url: url, expected: expected, origin: origin, latencies: latencies) }
                }
            }
        }
        var connected = 0
        let connectStart = ContinuousClock.now
        while connected < subscribers, ContinuousClock.now - connectStart < .seconds(120) {
            try await Task.sleep(for: .milliseconds(50))
            connected = await platform.hub.subscriberCount
        }
        print("subscribers connected: \(connected) of \(subscribers) in \(Self.seconds(ContinuousClock.now - connectStart)) s")

        let publishStart = ContinuousClock.now
        let perWriter = (events + writers - 1) / writers
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let count = min(perWriter, events - writer * perWriter)
                    guard count > 0 else { return }
                    for index in 0..<count {
                        if rate > 0 {
                            let due = publishStart + .seconds(Double(index * writers + writer) / Double(rate))
                            try await Task.sleep(until: due, clock: .continuous)
                        }
                        let sent = (ContinuousClock.now - origin).nanoseconds
                        _ = try await platform.storage.write { transaction in
                            try await transaction.append(
                                NewEvent(tenant: 1, stream: "bench:\(writer)", type: "bench.event", topics: ["bench"], json: #"{"sent_ns":\#(sent)}"#)
                            )
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let publishSeconds = Self.seconds(ContinuousClock.now - publishStart)
        let waitStart = ContinuousClock.now
        while latencies.count < connected * events, ContinuousClock.now - waitStart < .seconds(60) {
            try await Task.sleep(for: .milliseconds(50))
        }
        clients.cancel()
        let summary = Summary(latencies.samples)
        let samples = summary.sorted
        let deliverySeconds = Double(latencies.lastReceipt - (publishStart - origin).nanoseconds) / 1e9
        let result: [String: Double] = [
            "subscribers": Double(connected),
            "events": Double(events),
            "publish_seconds": publishSeconds,
            "events_per_second": Double(events) / publishSeconds,
            "deliveries": Double(samples.count),
            "deliveries_expected": Double(connected * events),
            "deliveries_per_second": Double(samples.count) / deliverySeconds,
            "latency_p50_ms": summary.percentile(0.50),
            "latency_p99_ms": summary.percentile(0.99),
            "latency_max_ms": samples.last ?? .nan,
        ]
        print(
            String(format: "database %@ · %d subscribers · %d events (rate %@)", location.description, connected, events, rate == 0 ? "unlimited" : "\(rate)/s")
        )
        print(String(format: "published: %.0f events/s (%.2f s)", result["events_per_second"]!, publishSeconds))
        print(String(format: "delivered: %d of %d (%.0f messages/s)", samples.count, connected * events, Double(samples.count) / deliverySeconds))
        print("publish → WebSocket receipt: \(summary)")
        if let out {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: out))
        }
        await server.stop()
    }

    static func follow(url: String, expected: Int, origin: ContinuousClock.Instant, latencies: Samples) async {
        var logger = Logger(label: "bench-client")
        logger.logLevel = .critical
        _ = try? await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
            var received = 0
            var local: [Double] = []
            local.reserveCapacity(expected)
            for try await message in inbound.messages(maxSize: 1 << 16) {
                guard case .text(let text) = message, let sent = Self.sentNanoseconds(in: text) else { continue }
                local.append(Double((ContinuousClock.now - origin).nanoseconds - sent) / 1e6)
                received += 1
                if received >= expected { break }
            }
            latencies.append(local, lastReceipt: (ContinuousClock.now - origin).nanoseconds)
            try await outbound.close(.normalClosure, reason: nil)
        }
    }

    static func sentNanoseconds(in json: String) -> Int64? {
        guard let range = json.range(of: #""sent_ns":"#) else { return nil }
        return Int64(json[range.upperBound...].prefix { $0.isNumber })
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.nanoseconds) / 1e9
    }
}

/// Opens many idle WebSocket connections to a running server and holds them, to measure what each costs it.
struct BenchConnections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "Open and hold idle live connections to a running server."
    )

    @Option(help: "Server base URL, such as http://127.0.0.1:8080 (loopback only).")
    var url: String
    @Option(help: "Connections to open.")
    var count = 10_000
    @Option(help: "Seconds to hold them once open.")
    var hold = 10
    @Option(help: "Connections opened at once.")
    var concurrency = 200

    func validate() throws {
        guard let host = URL(string: url)?.host, host == "localhost" || host.hasPrefix("127.") || host == "::1" else {
            throw ValidationError("bench connections only talks to loopback addresses")
        }
    }

    func run() async throws {
        let target = url.replacingOccurrences(of: "http://", with: "ws://") + "/live/ws?topics=idle"
        let tally = Tally()
        let start = ContinuousClock.now
        let hold = self.hold
        let holding = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    if index >= concurrency {
                        // Keep at most `concurrency` handshakes in flight.
                        while tally.settled + concurrency <= index {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    group.addTask {
                        var logger = Logger(label: "bench-client")
                        logger.logLevel = .critical
                        let opened = Flag()
                        do {
                            try await WebSocketClient.connect(url: target, logger: logger) { inbound, outbound, _ in
                                opened.set()
                                tally.open.add(1, ordering: .relaxed)
                                try? await Task.sleep(for: .seconds(3_600))
                                try await outbound.close(.normalClosure, reason: nil)
                                _ = inbound
                            }
                        } catch {
                            if !opened.isSet { tally.failed.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
        }
        while tally.settled < count, ContinuousClock.now - start < .seconds(300) {
            try await Task.sleep(for: .milliseconds(200))
        }
        print(
            "open: \(tally.open.load(ordering: .relaxed)) · failed: \(tally.failed.load(ordering: .relaxed)) · in \(BenchEvents.seconds(ContinuousClock.now - start)) s"
        )
        print("holding for \(hold) s")
        try await Task.sleep(for: .seconds(hold))
        holding.cancel()
        print("done")
    }
}

/// Latency samples gathered from many clients at once, and when the last message arrived.
final class Samples: Sendable {
    private let values = Mutex<(samples: [Double], lastReceipt: Int64)>(([], 0))
    var count: Int { values.withLock { $0.samples.count } }
    var samples: [Double] { values.withLock { $0.samples } }
    /// Nanoseconds after the origin at which the last message was received.
    var lastReceipt: Int64 { values.withLock { $0.lastReceipt } }
    func append(_ more: [Double], lastReceipt: Int64) {
        values.withLock { values in
            values.samples.append(contentsOf: more)
            values.lastReceipt = max(values.lastReceipt, lastReceipt)
        }
    }
}

/// Connections opened and failed so far.
final class Tally: Sendable {
    let open = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    var settled: Int { open.load(ordering: .relaxed) + failed.load(ordering: .relaxed) }
}

/// A flag set once, from any task.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

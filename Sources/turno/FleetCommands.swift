import ArgumentParser
import Fleet
import Foundation
import Synchronization
import TurnoCore

/// `turno bench dispatch`: optimal against greedy dispatch on a reproducible random city, and the simulator's tick.
struct BenchDispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Time optimal and greedy dispatch and a simulation tick, and compare their total pick-up times."
    )

    @Option(help: "Pending deliveries.")
    var deliveries = 1_000
    @Option(help: "Idle drones.")
    var drones = 10_000
    @Option(help: "Timed runs of each; the median and the slowest are printed.")
    var runs = 20
    @Option(help: "Seed of the random city.")
    var seed: UInt64 = 7

    func run() async throws {
        let map = FleetMap.standard
        for priorities in [0...0, 0...9] {
            var random = RandomFleet.Generator(seed: seed)
            let fleet = RandomFleet.drones(drones, on: map, using: &random)
            let pending = RandomFleet.deliveries(deliveries, on: map, priorities: priorities, startMs: Date().milliseconds, using: &random)
            let (optimal, optimalTimes) = timed { Dispatch.optimal(pending: pending, drones: fleet, map: map, rules: .standard) }
            let (greedy, greedyTimes) = timed { Dispatch.greedy(pending: pending, drones: fleet, map: map, rules: .standard) }
            let optimalTotal = Dispatch.totalPickUpSeconds(optimal)
            let greedyTotal = Dispatch.totalPickUpSeconds(greedy)
            print(
                String(
                    format:
                        "%d deliveries (priorities %d–%d) × %d drones: optimal %@ ms, %d served, total pick-up %.0f s · greedy %@ ms, %d served, %.0f s · greedy takes %.2f %% longer",
                    deliveries,
                    priorities.lowerBound,
                    priorities.upperBound,
                    drones,
                    optimalTimes.description,
                    optimal.count,
                    optimalTotal,
                    greedyTimes.description,
                    greedy.count,
                    greedyTotal,
                    (greedyTotal - optimalTotal) / optimalTotal * 100
                )
            )
        }
        var random = RandomFleet.Generator(seed: seed)
        let pending = RandomFleet.deliveries(deliveries, on: map, startMs: Date().milliseconds, using: &random)
        var world = FleetWorld(
            drones: RandomFleet.drones(drones, on: map, using: &random),
            deliveries: Dictionary(uniqueKeysWithValues: pending.map { ($0.id, $0) })
        )
        let nowMs = Date().milliseconds
        for assignment in Dispatch.optimal(pending: pending, drones: world.drones, map: map, rules: .standard) {
            guard let index = world.drones.firstIndex(where: { $0.id == assignment.droneID }), var delivery = world.deliveries[assignment.deliveryID] else {
                continue
            }
            try? world.drones[index].take(&delivery, nowMs: nowMs)
            world.deliveries[delivery.id] = delivery
        }
        let busy = world
        let (_, tickTimes) = timed {
            var copy = busy
            return Simulation.tick(&copy, seconds: 1, nowMs: nowMs + 1000, map: map, rules: .standard)
        }
        print("simulation tick of \(drones) drones (\(pending.count) flying to their parcels): \(tickTimes) ms")
    }

    struct Times: CustomStringConvertible {
        var median: Double
        var slowest: Double
        var description: String { String(format: "median %.2f, slowest %.2f", median, slowest) }
    }

    /// Runs `work` once to warm up, then `runs` times; milliseconds.
    func timed<T>(_ work: () -> T) -> (T, Times) {
        var result = work()
        var samples: [Double] = []
        for _ in 0..<max(runs, 1) {
            let start = ContinuousClock.now
            result = work()
            samples.append((ContinuousClock.now - start) / .milliseconds(1))
        }
        samples.sort()
        return (result, Times(median: samples[samples.count / 2], slowest: samples.last!))
    }
}

/// The parts of the fleet API the client commands read.
struct FleetClient: Sendable {
    let api: APIClient

    struct Drones: Decodable { var drones: [Drone] }
    struct Zones: Decodable {
        var bounds: Bounds
        var zones: [Zone]
    }
    struct ChargingPoints: Decodable { var chargingPoints: [ChargingPoint] }

    func map() async throws -> FleetMap {
        let zones = try JSONCoding.decoder.decode(Zones.self, from: try await api.send(.GET, "/api/v1/zones"))
        let points = try JSONCoding.decoder.decode(ChargingPoints.self, from: try await api.send(.GET, "/api/v1/charging-points"))
        return FleetMap(bounds: zones.bounds, zones: zones.zones, chargingPoints: points.chargingPoints)
    }

    func drones() async throws -> [Drone] {
        try JSONCoding.decoder.decode(Drones.self, from: try await api.send(.GET, "/api/v1/drones")).drones
    }

    func delivery(_ id: UUID) async throws -> Delivery {
        try JSONCoding.decoder.decode(Delivery.self, from: try await api.send(.GET, "/api/v1/deliveries/\(id.uuidString)"))
    }
}

/// `turno simulate`: a simulated fleet in a process of its own that talks to the server only through the API, the
/// way real drones do: it registers its drones, reads what the dispatcher gave them, flies them with the same
/// simulation the server uses, and reports their telemetry.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Fly simulated drones that report telemetry through the API, like a real fleet."
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "A staff user who may register drones (admin or manager).")
    var username = "admin"
    @Option(help: "That user's password.")
    var password: String
    @Option(help: "Drones to fly; they are named PREFIX0001 … and registered when missing.")
    var drones = 20
    @Option(help: "Prefix of the drones' ids.")
    var prefix = "ext-"
    @Option(help: "Simulated seconds per real second.")
    var speed: Double = 1
    @Option(help: "Seconds between telemetry reports.")
    var tick: Double = 1
    @Option(help: "Seconds to run; by default until interrupted.")
    var duration: Double?

    func validate() throws {
        guard (1...10_000).contains(drones) else { throw ValidationError("--drones must be between 1 and 10,000") }
        guard speed > 0, speed.isFinite, tick > 0, tick.isFinite else { throw ValidationError("--speed and --tick must be more than 0") }
        if let duration, !(duration > 0 && duration <= 86_400 * 365) { throw ValidationError("--duration must be more than 0 seconds") }
    }

    func run() async throws {
        try await reportingFailures {
            let api = APIClient(base: url)
            do {
                try await api.signIn(username: username, password: password)
                try await fly(FleetClient(api: api))
            } catch {
                try await api.shutdown()
                throw error
            }
            try await api.shutdown()
        }
    }

    func fly(_ fleet: FleetClient) async throws {
        let map = try await fleet.map()
        let ids = (1...drones).map { String(format: "\(prefix)%04d", $0) }
        let known = Set(try await fleet.drones().map(\.id))
        var random = SystemRandomNumberGenerator()
        for id in ids where !known.contains(id) {
            let hub = map.chargingPoints.randomElement(using: &random)?.position ?? map.bounds.center
            let type = DroneType.allCases.randomElement(using: &random)!
            try await fleet.api.post(
                "/api/v1/drones",
                [
                    "id": id, "type": type.rawValue, "position": ["x": hub.x, "y": hub.y], "reports_telemetry": true,
                ]
            )
        }
        print("flying \(ids.count) drones at \(speed)× real time; reporting every \(tick) s")
        let ours = Set(ids)
        let deadline = duration.map { ContinuousClock.now + .seconds($0) }
        var reports = 0
        var refused = 0
        var lastSummary = ContinuousClock.now
        while deadline.map({ ContinuousClock.now < $0 }) ?? true {
            let started = ContinuousClock.now
            // Locally they are simulated: the server leaves reporting drones alone.
            var flying = try await fleet.drones().filter { ours.contains($0.id) }
            for index in flying.indices { flying[index].reportsTelemetry = false }
            var deliveries: [UUID: Delivery] = [:]
            for id in flying.compactMap(\.deliveryID) { deliveries[id] = try await fleet.delivery(id) }
            var world = FleetWorld(drones: flying, deliveries: deliveries)
            _ = Simulation.tick(&world, seconds: tick * speed, nowMs: Date().milliseconds, map: map, rules: .standard)
            let before = Dictionary(uniqueKeysWithValues: flying.map { ($0.id, $0) })
            for drone in world.drones {
                guard let old = before[drone.id], drone.position != old.position || drone.battery != old.battery || drone.state != old.state else { continue }
                var report: [String: Any] = ["position": ["x": drone.position.x, "y": drone.position.y], "battery": max(0, min(100, drone.battery))]
                if drone.state != old.state { report["state"] = drone.state.rawValue }
                do {
                    try await fleet.api.post("/api/v1/drones/\(drone.id)/telemetry", report)
                    reports += 1
                } catch {
                    // Most often the dispatcher changed the drone meanwhile (409); the next round starts from what the
                    // server says either way, and the summary counts every report that did not go through.
                    refused += 1
                }
            }
            if ContinuousClock.now - lastSummary >= .seconds(10) {
                let states = Dictionary(grouping: world.drones, by: \.state).map { "\($0.key.rawValue) \($0.value.count)" }.sorted()
                print("\(states.joined(separator: ", ")) · \(reports) reports sent, \(refused) refused")
                lastSummary = ContinuousClock.now
            }
            try await Task.sleep(until: started + .seconds(tick), clock: .continuous)
        }
        print("done: \(reports) reports sent, \(refused) refused")
    }
}

/// `turno loadgen fleet`: posts deliveries at a steady rate and reports, from the server's own timestamps, how long
/// they waited for a drone and how long they took to arrive: the fleet's service levels under that load.
struct LoadgenFleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Post deliveries at a set rate; report assignment latency and delivery time percentiles.",
        discussion: """
            Deliveries go between random points of the organization's map, 0.2 to 8 kg, priorities 0 to 9, each with an \
            Idempotency-Key. After --duration seconds posting stops and the command waits up to --drain seconds for \
            them to end (delivered, failed or cancelled), then reads each one. Only --url is contacted. Exits with \
            status 1 when a request failed.
            """
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "A staff user (any role may post deliveries).")
    var username = "admin"
    @Option(help: "That user's password.")
    var password: String
    @Option(help: "Deliveries posted per second.")
    var rate: Double = 5
    @Option(help: "Seconds of posting.")
    var duration: Double = 30
    @Option(help: "Seconds to wait afterwards for the posted deliveries to end.")
    var drain: Double = 120
    @Option(help: "Write the results as JSON to this file too.")
    var out: String?

    func validate() throws {
        guard rate > 0, rate.isFinite, duration > 0, duration <= 86_400, drain >= 0, drain <= 86_400 else {
            throw ValidationError("--rate and --duration must be more than 0 (a day at most), --drain from 0 to a day")
        }
    }

    struct Results: Encodable {
        var posted: Int
        var postErrors: Int
        var postP99Ms: Double?
        var delivered: Int
        var failed: Int
        var cancelled: Int
        var unfinished: Int
        var deliveredPerSecond: Double
        var assignmentP50S: Double?
        var assignmentP95S: Double?
        var assignmentP99S: Double?
        var deliveryP50S: Double?
        var deliveryP95S: Double?
        var deliveryP99S: Double?
        var firstError: String?
    }

    func run() async throws {
        var clean = true
        try await reportingFailures {
            let api = APIClient(base: url)
            do {
                try await api.signIn(username: username, password: password)
                let results = try await measure(FleetClient(api: api))
                clean = results.postErrors == 0
            } catch {
                try await api.shutdown()
                throw error
            }
            try await api.shutdown()
        }
        if !clean { throw ExitCode.failure }
    }

    func measure(_ fleet: FleetClient) async throws -> Results {
        let map = try await fleet.map()
        let posted = PostedDeliveries()
        let start = ContinuousClock.now
        let deadline = start + .seconds(duration)
        let progress = ProgressLine(label: "loadgen", total: Int(duration.rounded(.up)))
        await withTaskGroup(of: Void.self) { group in
            for arrival in 0... {
                let due = start + .seconds(Double(arrival) / rate)
                guard due < deadline else { break }
                try? await Task.sleep(until: due, clock: .continuous)
                progress.update(Int((ContinuousClock.now - start) / .seconds(1)), detail: "\(arrival) deliveries posted")
                group.addTask {
                    var random = SystemRandomNumberGenerator()
                    let from = RandomFleet.point(in: map.bounds, using: &random)
                    var to = RandomFleet.point(in: map.bounds, using: &random)
                    while to.distance(to: from) < 100 { to = RandomFleet.point(in: map.bounds, using: &random) }
                    let body: [String: Any] = [
                        "origin": ["x": from.x, "y": from.y], "destination": ["x": to.x, "y": to.y],
                        "weight_kg": (Double.random(in: 0.2...8, using: &random) * 10).rounded() / 10, "priority": Int.random(in: 0...9, using: &random),
                    ]
                    let sent = ContinuousClock.now
                    do {
                        let answer = try await fleet.api.post("/api/v1/deliveries", body)
                        let latency = (ContinuousClock.now - sent) / .milliseconds(1)
                        guard let id = (answer["id"] as? String).flatMap(UUID.init(uuidString:)) else { throw Failure("the answer had no delivery id") }
                        posted.withLock {
                            $0.ids.append(id)
                            $0.latencies.append(latency)
                        }
                    } catch {
                        posted.withLock {
                            $0.errors += 1
                            $0.first = $0.first ?? Failure.report(error).description
                        }
                    }
                }
            }
        }
        progress.finish()
        let (ids, latencies, errors, firstError) = posted.withLock { ($0.ids, $0.latencies, $0.errors, $0.first) }
        // Waits for the deliveries to end, checking the oldest unfinished one first.
        var ended: [UUID: Delivery] = [:]
        let drainDeadline = ContinuousClock.now + .seconds(drain)
        while ended.count < ids.count, ContinuousClock.now < drainDeadline {
            for id in ids where ended[id] == nil {
                let delivery = try await fleet.delivery(id)
                guard delivery.state.isFinal else { break }
                ended[id] = delivery
            }
            if ended.count < ids.count { try await Task.sleep(for: .seconds(1)) }
        }
        var all: [Delivery] = []
        for id in ids {
            if let delivery = ended[id] { all.append(delivery) } else { all.append(try await fleet.delivery(id)) }
        }
        let results = summarize(all, latencies: latencies, errors: errors, firstError: firstError)
        print(
            String(format: "posted %d deliveries in %.0f s (%d failed to post; post p99 %.1f ms)", results.posted, duration, errors, results.postP99Ms ?? .nan)
        )
        print("ended: \(results.delivered) delivered, \(results.failed) failed, \(results.cancelled) cancelled, \(results.unfinished) not ended")
        func s(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "–" }
        print(
            "assignment latency (posted → assigned): p50 \(s(results.assignmentP50S)) s · p95 \(s(results.assignmentP95S)) s · p99 \(s(results.assignmentP99S)) s"
        )
        print("delivery time (posted → delivered): p50 \(s(results.deliveryP50S)) s · p95 \(s(results.deliveryP95S)) s · p99 \(s(results.deliveryP99S)) s")
        print(String(format: "delivered per second over the run: %.2f", results.deliveredPerSecond))
        if let firstError { print("first error: \(firstError)") }
        if let out {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: out))
        }
        return results
    }

    func summarize(_ deliveries: [Delivery], latencies: [Double], errors: Int, firstError: String?) -> Results {
        let assignment = Summary(deliveries.compactMap { delivery in delivery.assignedAtMs.map { Double($0 - delivery.createdAtMs) / 1000 } })
        let deliveredTimes = deliveries.compactMap { delivery in delivery.deliveredAtMs.map { Double($0 - delivery.createdAtMs) / 1000 } }
        let delivery = Summary(deliveredTimes)
        let span = deliveries.compactMap(\.deliveredAtMs).max().map { last in Double(last - deliveries.map(\.createdAtMs).min()!) / 1000 } ?? 0
        return Results(
            posted: deliveries.count,
            postErrors: errors,
            postP99Ms: Summary(latencies).value(0.99),
            delivered: deliveries.filter { $0.state == .delivered }.count,
            failed: deliveries.filter { $0.state == .failed }.count,
            cancelled: deliveries.filter { $0.state == .cancelled }.count,
            unfinished: deliveries.filter { !$0.state.isFinal }.count,
            deliveredPerSecond: span > 0 ? Double(deliveredTimes.count) / span : 0,
            assignmentP50S: assignment.value(0.5),
            assignmentP95S: assignment.value(0.95),
            assignmentP99S: assignment.value(0.99),
            deliveryP50S: delivery.value(0.5),
            deliveryP95S: delivery.value(0.95),
            deliveryP99S: delivery.value(0.99),
            firstError: firstError
        )
    }
}

/// What the posting workers of `loadgen fleet` share.
final class PostedDeliveries: Sendable {
    struct State {
        var ids: [UUID] = []
        var latencies: [Double] = []
        var errors = 0
        var first: String?
    }

    private let state = Mutex(State())

    func withLock<T>(_ body: (inout State) -> T) -> T {
        state.withLock { body(&$0) }
    }
}

import Foundation
import Logging
import Testing
import TurnoCore

@testable import Fleet
@testable import TurnoServer

/// The fleet over HTTP: deliveries from post to delivered with the built-in simulation, bad input, cancelling,
/// telemetry from real drones, concurrent dispatchers on one database, and the dispatcher moving to another node.
@Suite("Fleet API")
struct FleetAPITests {
    /// A fast fleet: ticks every 50 ms, simulated time 300 times real time.
    static func modules(simulate: Bool = true, dispatches: Bool = true) -> [any TurnoModule] {
        turnoModules.filter { $0.name != "fleet" } + [FleetModule(tick: .milliseconds(50), simulate: simulate, simulationSpeed: 300, dispatches: dispatches)]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: String) throws -> T {
        try JSONCoding.decoder.decode(T.self, from: Data(body.utf8))
    }

    struct Deliveries: Decodable { var deliveries: [Delivery] }
    struct Stats: Decodable {
        var backlog: Int
        var deliveredLastHour: Int
        var deliveryTimeSeconds: [String: Double?]
    }
    struct Drones: Decodable { var drones: [Drone] }

    static func register(_ admin: StaffClient, _ id: String, x: Double, y: Double, type: String = "medium", telemetry: Bool = false) async throws {
        let response = try await admin.call(
            .POST,
            "/api/v1/drones",
            json: #"{"id":"\#(id)","type":"\#(type)","position":{"x":\#(x),"y":\#(y)},"reports_telemetry":\#(telemetry)}"#
        )
        #expect(response.status == 201, "\(response.body)")
    }

    static func post(
        _ admin: StaffClient,
        from: (Double, Double),
        to: (Double, Double),
        weight: Double = 1,
        key: String? = nil
    ) async throws -> (status: Int, delivery: Delivery?, body: String) {
        let json = #"{"origin":{"x":\#(from.0),"y":\#(from.1)},"destination":{"x":\#(to.0),"y":\#(to.1)},"weight_kg":\#(weight)}"#
        let response = try await admin.call(.POST, "/api/v1/deliveries", json: json, headers: key.map { [("Idempotency-Key", $0)] } ?? [])
        return (response.status, try? decode(Delivery.self, response.body), response.body)
    }

    /// Polls until `done` holds for the deliveries, or fails after `seconds`.
    static func waitFor(_ admin: StaffClient, seconds: Double = 20, _ done: ([Delivery]) -> Bool) async throws -> [Delivery] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let deliveries = try decode(Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries?limit=1000").body).deliveries
            if done(deliveries) { return deliveries }
            if Date() > deadline {
                Issue.record("gave up waiting; deliveries: \(deliveries.map { "\($0.id): \($0.state)" })")
                return deliveries
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("posted deliveries are assigned, picked up and delivered by simulated drones, which then recharge", arguments: TestDatabase.available)
    func deliveriesComplete(database: TestDatabase) async throws {
        try await withTestServer(database, modules: Self.modules()) { server in
            let admin = try await StaffClient.admin(server)
            for (index, position) in [(1_000.0, 1_000.0), (9_000.0, 9_000.0), (5_000.0, 2_000.0)].enumerated() {
                try await Self.register(admin, "d-\(index)", x: position.0, y: position.1)
            }
            var posted: [Delivery] = []
            for trip in [
                ((1_200.0, 1_100.0), (2_500.0, 3_000.0)), ((8_800.0, 8_500.0), (7_000.0, 7_500.0)), ((5_000.0, 2_500.0), (6_000.0, 1_000.0)),
                ((3_000.0, 3_000.0), (3_500.0, 3_500.0)), ((6_000.0, 6_000.0), (6_500.0, 5_000.0)),
            ] {
                let answer = try await Self.post(admin, from: trip.0, to: trip.1)
                #expect(answer.status == 201, "\(answer.body)")
                posted.append(try #require(answer.delivery))
                #expect(answer.delivery?.state == .pending)
            }
            let finished = try await Self.waitFor(admin, seconds: 30) { deliveries in
                deliveries.count == posted.count && deliveries.allSatisfy { $0.state == .delivered }
            }
            for delivery in finished {
                let assigned = try #require(delivery.assignedAtMs)
                let pickedUp = try #require(delivery.pickedUpAtMs)
                let delivered = try #require(delivery.deliveredAtMs)
                #expect(delivery.createdAtMs <= assigned && assigned <= pickedUp && pickedUp <= delivered && delivery.endedAtMs == delivered)
                #expect(delivery.droneID != nil)
            }
            // Five deliveries, three drones: some drones flew twice; afterwards every drone is free again.
            let drones = try Self.decode(Drones.self, try await admin.call(.GET, "/api/v1/drones").body).drones
            #expect(drones.allSatisfy { $0.deliveryID == nil && [.idle, .returning, .charging].contains($0.state) })
            let stats = try Self.decode(Stats.self, try await admin.call(.GET, "/api/v1/fleet/stats").body)
            #expect(stats.backlog == 0 && stats.deliveredLastHour == 5)
            #expect(stats.deliveryTimeSeconds["p50"] != nil)
        }
    }

    @Test("bad input gets a clear problem and stores nothing; a retried post with its key makes one delivery")
    func badInput() async throws {
        try await withTestServer(modules: Self.modules(simulate: false)) { server in
            let admin = try await StaffClient.admin(server)
            let cases: [(json: String, status: Int, detail: String)] = [
                (#"{"origin":{"x":1,"y":1},"destination":{"x":2,"y":2},"weight_kg":99}"#, 422, "kg"),
                (#"{"origin":{"x":-5,"y":1},"destination":{"x":2,"y":2},"weight_kg":1}"#, 422, "map"),
                (#"{"origin":{"x":10,"y":10},"destination":{"x":10,"y":10},"weight_kg":1}"#, 422, "same"),
                (#"{"origin":{"x":1,"y":1},"destination":{"x":2,"y":2},"weight_kg":0}"#, 422, "weight"),
                (#"{"origin":{"x":1,"y":1},"destination":{"x":2,"y":2},"weight_kg":1,"priority":12}"#, 422, "priority"),
                (#"{"origin":{"x":1,"y":1},"weight_kg":1}"#, 400, "destination"),
                (#"{"origin":{"x":"a","y":1},"destination":{"x":2,"y":2},"weight_kg":1}"#, 400, "x"),
            ]
            for (json, status, detail) in cases {
                let response = try await admin.call(.POST, "/api/v1/deliveries", json: json)
                #expect(response.status == status, "\(json) → \(response.body)")
                #expect(response.headers["Content-Type"].first == "application/problem+json")
                #expect(response.body.lowercased().contains(detail), "\(json) → \(response.body)")
            }
            #expect(try Self.decode(Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries").body).deliveries.isEmpty)

            let first = try await Self.post(admin, from: (100, 100), to: (900, 900), key: "order-17")
            let retry = try await Self.post(admin, from: (100, 100), to: (900, 900), key: "order-17")
            #expect(first.status == 201 && retry.status == 200 && first.delivery?.id == retry.delivery?.id)
            #expect(try Self.decode(Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries").body).deliveries.count == 1)

            #expect(try await admin.call(.GET, "/api/v1/deliveries/\(UUID().uuidString)").status == 404)
            #expect(try await admin.call(.GET, "/api/v1/deliveries/not-a-uuid").status == 404)
            #expect(try await admin.call(.GET, "/api/v1/deliveries?state=lost").status == 400)
            #expect(try await admin.call(.GET, "/api/v1/deliveries?limit=0").status == 400)
            #expect(try await admin.call(.GET, "/api/v1/drones/nobody").status == 404)
            #expect(try await admin.call(.POST, "/api/v1/drones", json: #"{"type":"jumbo"}"#).status == 400)
            #expect(try await admin.call(.POST, "/api/v1/drones", json: #"{"id":"has space","type":"light"}"#).status == 422)
            #expect(try await admin.call(.POST, "/api/v1/drones", json: #"{"type":"light","position":{"x":20000,"y":1}}"#).status == 422)
            try await Self.register(admin, "twin", x: 10, y: 10)
            #expect(try await admin.call(.POST, "/api/v1/drones", json: #"{"id":"twin","type":"light"}"#).status == 409)
            // Without credentials nothing is readable, and the fleet's live topic is for its staff only.
            #expect(try await server.request(.GET, "/api/v1/drones").status == 401)
            #expect(try await server.request(.GET, "/live/poll?topics=fleet:1").status == 401)
        }
    }

    @Test("cancelling: an assigned delivery is cancelled and frees its drone; a cancelled one cannot be cancelled again")
    func cancelling() async throws {
        try await withTestServer(modules: Self.modules(simulate: false)) { server in
            let admin = try await StaffClient.admin(server)
            try await Self.register(admin, "solo", x: 100, y: 100, telemetry: true)
            let delivery = try #require(try await Self.post(admin, from: (200, 200), to: (800, 800)).delivery)
            _ = try await Self.waitFor(admin) { $0.first?.state == .assigned }
            let cancelled = try await admin.call(.POST, "/api/v1/deliveries/\(delivery.id.uuidString)/cancel")
            let cancelledState = try Self.decode(Delivery.self, cancelled.body).state
            #expect(cancelled.status == 200 && cancelledState == .cancelled)
            let drone = try Self.decode(Drone.self, try await admin.call(.GET, "/api/v1/drones/solo").body)
            #expect(drone.state == .idle && drone.deliveryID == nil)
            let again = try await admin.call(.POST, "/api/v1/deliveries/\(delivery.id.uuidString)/cancel")
            #expect(again.status == 409 && again.body.contains("cancelled"))
        }
    }

    @Test("telemetry from a real drone moves its delivery: picked up at the origin, delivered at the destination; nonsense is refused")
    func telemetry() async throws {
        try await withTestServer(modules: Self.modules(simulate: false)) { server in
            let admin = try await StaffClient.admin(server)
            try await Self.register(admin, "real-1", x: 100, y: 100, telemetry: true)
            let delivery = try #require(try await Self.post(admin, from: (1_000, 1_000), to: (2_000, 2_000)).delivery)
            _ = try await Self.waitFor(admin) { $0.first?.state == .assigned }
            func report(_ x: Double, _ y: Double, battery: Double = 80, state: String? = nil) async throws -> (status: Int, body: String) {
                let stateField = state.map { #","state":"\#($0)""# } ?? ""
                let response = try await admin.call(
                    .POST,
                    "/api/v1/drones/real-1/telemetry",
                    json: #"{"position":{"x":\#(x),"y":\#(y)},"battery":\#(battery)\#(stateField)}"#
                )
                return (response.status, response.body)
            }
            #expect(try await report(500, 500).status == 200)
            #expect(try await report(500, 500, state: "delivering").status == 409, "picking up 700 m from the origin")
            #expect(try await report(500, 500, battery: 140).status == 422)
            #expect(try await report(1e40, 0).status == 422, "a position off the map")
            #expect(try await report(1_010, 1_000, state: "delivering").status == 200)
            var current = try Self.decode(Delivery.self, try await admin.call(.GET, "/api/v1/deliveries/\(delivery.id.uuidString)").body)
            #expect(current.state == .pickedUp && current.pickedUpAtMs != nil)
            #expect(try await report(1_500, 1_500, state: "charging").status == 409, "delivering → charging skips the drop-off")
            #expect(try await report(2_000, 2_020, state: "returning").status == 200)
            current = try Self.decode(Delivery.self, try await admin.call(.GET, "/api/v1/deliveries/\(delivery.id.uuidString)").body)
            #expect(current.state == .delivered && current.deliveredAtMs != nil)
            let drone = try Self.decode(Drone.self, try await admin.call(.GET, "/api/v1/drones/real-1").body)
            #expect(drone.state == .returning && drone.position == Point(x: 2_000, y: 2_020) && drone.battery == 80 && drone.reportsTelemetry)
        }
    }

    @Test("staff changes to a drone follow the rules: only an inactive drone is activated; taking a busy drone offline requeues its delivery")
    func droneChanges() async throws {
        try await withTestServer(modules: Self.modules(simulate: false)) { server in
            let admin = try await StaffClient.admin(server)
            try await Self.register(admin, "busy", x: 100, y: 100, telemetry: true)
            // 5 kg: the medium drone lifts it, the light one registered below never can, so it never takes it.
            let delivery = try #require(try await Self.post(admin, from: (300, 300), to: (900, 900), weight: 5).delivery)
            _ = try await Self.waitFor(admin) { $0.first?.state == .assigned }
            let activate = try await admin.call(.PATCH, "/api/v1/drones/busy", json: #"{"state":"idle"}"#)
            #expect(activate.status == 409 && activate.body.contains("only an inactive drone"))
            #expect(try await admin.call(.PATCH, "/api/v1/drones/busy", json: #"{"state":"assigned"}"#).status == 422)
            let offline = try await admin.call(.PATCH, "/api/v1/drones/busy", json: #"{"state":"offline"}"#)
            #expect(offline.status == 200)
            let drone = try Self.decode(Drone.self, offline.body)
            #expect(drone.state == .offline && drone.deliveryID == nil)
            let requeued = try Self.decode(Delivery.self, try await admin.call(.GET, "/api/v1/deliveries/\(delivery.id.uuidString)").body)
            #expect(requeued.state == .pending && requeued.droneID == nil && requeued.reason?.contains("offline") == true)
            // Only the dispatcher assigns: an idle drone cannot report itself assigned.
            try await Self.register(admin, "spare", x: 5_000, y: 5_000, type: "light", telemetry: true)
            let telemetry = try await admin.call(
                .POST,
                "/api/v1/drones/spare/telemetry",
                json: #"{"position":{"x":5000,"y":5000},"battery":90,"state":"assigned"}"#
            )
            #expect(telemetry.status == 409 && telemetry.body.contains("only the dispatcher"), "\(telemetry.body)")
        }
    }

    @Test("two dispatchers on one database never give a drone two deliveries or a delivery two drones", arguments: TestDatabase.available)
    func concurrentDispatch(database: TestDatabase) async throws {
        let location = try await database.makeLocation()
        // The nodes run no dispatcher of their own: the two below are the only ones, started together.
        try await withTestServer(at: location, modules: Self.modules(simulate: false, dispatches: false)) { first in
            try await withTestServer(at: location, modules: Self.modules(simulate: false, dispatches: false)) { second in
                let admin = try await StaffClient.admin(first)
                for index in 0..<40 {
                    _ = try await Self.post(admin, from: (Double(150 + index * 200), 300), to: (Double(400 + index * 100), 9_000))
                }
                for index in 0..<30 {
                    try await Self.register(admin, "c-\(index)", x: Double(100 + index * 300), y: Double(200 + (index % 5) * 1_500), telemetry: true)
                }
                let before = try Self.decode(Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries?limit=1000").body).deliveries
                #expect(before.count == 40 && before.allSatisfy { $0.state == .pending })
                let engines = [first, second].map {
                    FleetEngine(
                        store: FleetStore(storage: $0.storage),
                        storage: $0.storage,
                        settings: FleetSettings(simulates: false),
                        logger: Logger(label: "test")
                    )
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for engine in engines {
                        group.addTask {
                            for _ in 0..<10 { try await engine.tick(1, seconds: 0) }
                        }
                    }
                    try await group.waitForAll()
                }
                let deliveries = try Self.decode(Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries?limit=1000").body).deliveries
                let drones = try Self.decode(Drones.self, try await admin.call(.GET, "/api/v1/drones").body).drones
                let assigned = deliveries.filter { $0.state == .assigned }
                #expect(assigned.count == 30, "30 drones, 40 deliveries: every drone takes exactly one")
                #expect(Set(assigned.compactMap(\.droneID)).count == assigned.count)
                for drone in drones {
                    let carried = try #require(drone.deliveryID)
                    #expect(drone.state == .assigned)
                    #expect(assigned.first { $0.id == carried }?.droneID == drone.id)
                }
            }
        }
    }

    @Test(
        "when the dispatching node stops, another node takes over within seconds",
        .enabled(if: TestDatabase.postgresURL != nil, "one node per SQLite database; PostgreSQL elects")
    )
    func leaderHandOver() async throws {
        let location = try await TestDatabase.postgres.makeLocation()
        try await withTestServer(at: location, modules: Self.modules(simulate: false)) { leader in
            let leaderAdmin = try await StaffClient.admin(leader)
            try await Self.register(leaderAdmin, "h-1", x: 100, y: 100, telemetry: true)
            _ = try await Self.post(leaderAdmin, from: (200, 200), to: (500, 500))
            // Assigned while the first node was the only one: it leads.
            _ = try await Self.waitFor(leaderAdmin) { $0.first?.state == .assigned }

            try await withTestServer(at: location, modules: Self.modules(simulate: false)) { follower in
                let admin = try await StaffClient.admin(follower)
                // The leader stops here, mid-test (stopping it again when its scope ends does nothing).
                try await leader.stop()
                try await Self.register(admin, "h-2", x: 9_000, y: 9_000, telemetry: true)
                let started = Date()
                _ = try await Self.post(admin, from: (9_100, 9_100), to: (8_000, 8_000))
                let deliveries = try await Self.waitFor(admin, seconds: 15) { deliveries in deliveries.allSatisfy { $0.state == .assigned } }
                #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.state == .assigned })
                #expect(Date().timeIntervalSince(started) < 10)
            }
        }
    }
}

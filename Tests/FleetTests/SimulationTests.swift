import Foundation
import Testing

@testable import Fleet

@Suite("Fleet simulation: flight, delivery, charging, faults, and conservation over many ticks")
struct SimulationTests {
    let map = FleetMap.standard
    let rules = FleetRules.standard

    var centreHub: ChargingPoint { map.chargingPoints.first { $0.id == "cp-centre" }! }

    @Test("a drone flies to the parcel, delivers it, returns to a hub, charges and is idle again; long ticks never overshoot")
    func lifecycle() throws {
        let hub = centreHub.position
        let origin = Point(x: hub.x + 900, y: hub.y)
        let destination = Point(x: hub.x + 900, y: hub.y + 1_200)
        var delivery = Fixture.delivery(1, from: origin, to: destination, weightKg: 1.5)
        var drone = Fixture.drone("d-1", .light, at: hub)
        try drone.take(&delivery, nowMs: Fixture.startMs)
        var world = FleetWorld(drones: [drone], deliveries: [delivery.id: delivery])
        let light = try #require(rules.specifications[.light])

        // 10 s at 18 m/s: 180 m towards the origin, empty; moving does not bump the version.
        var changes = Simulation.tick(&world, seconds: 10, nowMs: Fixture.startMs, map: map, rules: rules)
        #expect(changes.isEmpty)
        #expect(world.drones[0].position.distance(to: Point(x: hub.x + 180, y: hub.y)) < 1e-9)
        #expect(abs(world.drones[0].battery - (100 - light.batteryPercent(forMetres: 180, payloadKg: 0))) < 1e-9)
        #expect(world.drones[0].version == drone.version)

        // A tick long enough to go much further stops at the origin and picks the parcel up.
        let pickUpTimeMs = Fixture.startMs + 3_600_000
        changes = Simulation.tick(&world, seconds: 3_600, nowMs: pickUpTimeMs, map: map, rules: rules)
        #expect(changes == [.droneChanged(id: "d-1", from: .assigned, to: .delivering), .deliveryPickedUp(delivery.id)])
        #expect(world.drones[0].position == origin && world.drones[0].target == destination)
        #expect(world.deliveries[delivery.id]?.state == .pickedUp && world.deliveries[delivery.id]?.pickedUpAtMs == pickUpTimeMs)
        #expect(abs(world.drones[0].battery - (100 - light.batteryPercent(forMetres: 900, payloadKg: 0))) < 1e-9)

        // Loaded to the destination, then off to the nearest hub with a free pad.
        let batteryBefore = world.drones[0].battery
        changes = Simulation.tick(&world, seconds: 3_600, nowMs: pickUpTimeMs, map: map, rules: rules)
        #expect(changes == [.droneChanged(id: "d-1", from: .delivering, to: .returning), .deliveryDelivered(delivery.id)])
        #expect(world.drones[0].position == destination)
        #expect(abs(world.drones[0].battery - (batteryBefore - light.batteryPercent(forMetres: 1_200, payloadKg: 1.5))) < 1e-9)
        #expect(world.drones[0].deliveryID == nil)
        #expect(world.drones[0].chargingPointID == map.nearestChargingPoint(to: destination)?.id)
        #expect(world.deliveries[delivery.id]?.state == .delivered)
        #expect(world.removeEndedDeliveries().map(\.id) == [delivery.id])
        #expect(world.deliveries.isEmpty)

        // Lands on a pad, charges, and is idle again once full.
        changes = Simulation.tick(&world, seconds: 3_600, nowMs: pickUpTimeMs, map: map, rules: rules)
        #expect(changes == [.droneChanged(id: "d-1", from: .returning, to: .charging)])
        #expect(world.drones[0].position == map.nearestChargingPoint(to: destination)?.position)
        let missing = 100 - world.drones[0].battery
        changes = Simulation.tick(&world, seconds: missing / rules.chargePercentPerSecond / 2, nowMs: pickUpTimeMs, map: map, rules: rules)
        #expect(changes.isEmpty && abs(world.drones[0].battery - (100 - missing / 2)) < 1e-9)
        changes = Simulation.tick(&world, seconds: missing / rules.chargePercentPerSecond, nowMs: pickUpTimeMs, map: map, rules: rules)
        #expect(changes == [.droneChanged(id: "d-1", from: .charging, to: .idle)])
        #expect(world.drones[0].battery == 100 && world.drones[0].chargingPointID == nil)
    }

    @Test("pads: a returning drone picks the nearest hub with a pad to spare, and waits when it lands at a full one")
    func pads() {
        let west = ChargingPoint(id: "west", name: "West", position: Point(x: 1_000, y: 1_000), pads: 1)
        let east = ChargingPoint(id: "east", name: "East", position: Point(x: 3_000, y: 1_000), pads: 1)
        let smallMap = FleetMap(bounds: Bounds(minX: 0, minY: 0, maxX: 4_000, maxY: 2_000), zones: [], chargingPoints: [west, east])
        var charging = Fixture.drone("charging", at: west.position, battery: 90, state: .charging)
        charging.chargingPointID = "west"
        let low = Fixture.drone("low", at: Point(x: 1_100, y: 1_000), battery: 20)
        var world = FleetWorld(drones: [charging, low], deliveries: [:])
        _ = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: smallMap, rules: rules)
        // The west pad is taken, so the low drone heads east although west is nearer.
        #expect(world.drones[1].state == .returning && world.drones[1].chargingPointID == "east")

        // Two drones land at a one-pad hub: the first charges, the second waits beside it until the pad frees up.
        var first = Fixture.drone("first", at: west.position, battery: 99, state: .returning)
        first.chargingPointID = "west"
        var second = Fixture.drone("second", at: west.position, battery: 50, state: .returning)
        second.chargingPointID = "west"
        world = FleetWorld(drones: [first, second], deliveries: [:])
        _ = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: smallMap, rules: rules)
        #expect(world.drones.map(\.state) == [.charging, .returning])
        _ = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: smallMap, rules: rules)
        #expect(world.drones.map(\.state) == [.charging, .returning])
        #expect(world.drones[1].battery == 50)
        _ = Simulation.tick(&world, seconds: 10, nowMs: Fixture.startMs, map: smallMap, rules: rules)
        #expect(world.drones.map(\.state) == [.idle, .charging])
    }

    @Test("idle drones low on battery go to charge; retiring drones park at a hub; telemetry drones and inactive ones are left alone")
    func otherStates() {
        let low = Fixture.drone("low", at: Point(x: 100, y: 100), battery: rules.lowBatteryPercent - 1)
        let fine = Fixture.drone("fine", at: Point(x: 100, y: 100), battery: rules.lowBatteryPercent)
        let retiring = Fixture.drone("retiring", at: Point(x: 100, y: 100), battery: 60, state: .retiring)
        var real = Fixture.drone("real", at: Point(x: 100, y: 100), battery: .nan, state: .assigned)
        real.reportsTelemetry = true
        let parked = Fixture.drone("parked", at: Point(x: 100, y: 100), battery: 3, state: .inactive)
        var world = FleetWorld(drones: [low, fine, retiring, real, parked], deliveries: [:])
        let changes = Simulation.tick(&world, seconds: 10_000, nowMs: Fixture.startMs, map: map, rules: rules)
        #expect(changes == [.droneChanged(id: "low", from: .idle, to: .returning), .droneChanged(id: "retiring", from: .retiring, to: .inactive)])
        #expect(world.drones[0].chargingPointID == "cp-south-west" && world.drones[0].target == map.chargingPoints[6].position)
        #expect(world.drones[2].position == map.chargingPoints[6].position && world.drones[2].chargingPointID == nil)
        #expect(world.drones[1] == fine && world.drones[4] == parked)
        // The real drone's NaN battery is its own business (and NaN equals nothing, so compare the rest).
        #expect(world.drones[3].state == .assigned && world.drones[3].position == real.position && world.drones[3].version == real.version)
    }

    @Test(
        "a drone with a battery reading that is not a percentage goes offline and its delivery back to pending",
        arguments: [Double.nan, .infinity, -1, 100.5]
    )
    func faultyBattery(battery: Double) throws {
        var assigned = Fixture.delivery(1, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        var carried = Fixture.delivery(2, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        var first = Fixture.drone("first", at: Point(x: 1_000, y: 1_000))
        var second = Fixture.drone("second", at: Point(x: 2_000, y: 2_000))
        try first.take(&assigned, nowMs: Fixture.startMs)
        try second.take(&carried, nowMs: Fixture.startMs)
        var world = FleetWorld(drones: [first, second], deliveries: [assigned.id: assigned, carried.id: carried])
        _ = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: map, rules: rules)
        #expect(world.drones[1].state == .delivering)
        world.drones[0].battery = battery
        world.drones[1].battery = battery
        let changes = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: map, rules: rules)
        for (drone, delivery) in [(world.drones[0], assigned), (world.drones[1], carried)] {
            #expect(drone.state == .offline && drone.deliveryID == nil && drone.target == nil)
            let requeued = try #require(world.deliveries[delivery.id])
            #expect(requeued.state == .pending && requeued.droneID == nil && requeued.assignedAtMs == nil && requeued.pickedUpAtMs == nil)
            #expect(requeued.reason?.hasPrefix("drone \(drone.id) went offline: battery reading") == true)
            #expect(changes.contains(.deliveryRequeued(delivery.id, reason: requeued.reason!)))
        }
        #expect(changes.contains(.droneChanged(id: "first", from: .assigned, to: .offline)))
        #expect(changes.contains(.droneChanged(id: "second", from: .delivering, to: .offline)))
        // Offline drones stay offline and still.
        let before = world.drones
        #expect(Simulation.tick(&world, seconds: 100, nowMs: Fixture.startMs, map: map, rules: rules).isEmpty)
        #expect(world.drones.map(\.position) == before.map(\.position) && world.drones.map(\.version) == before.map(\.version))
        #expect(world.drones.allSatisfy { $0.state == .offline })
    }

    @Test("a drone that runs out of battery in flight stops where its energy ends, goes offline, and its delivery is requeued")
    func depletion() throws {
        var delivery = Fixture.delivery(1, from: Point(x: 9_000, y: 1_000), to: Point(x: 9_000, y: 2_000))
        var drone = Fixture.drone("d-1", .heavy, at: Point(x: 1_000, y: 1_000), battery: 100)
        try drone.take(&delivery, nowMs: Fixture.startMs)
        drone.battery = 1
        var world = FleetWorld(drones: [drone], deliveries: [delivery.id: delivery])
        let changes = Simulation.tick(&world, seconds: 3_600, nowMs: Fixture.startMs, map: map, rules: rules)
        let heavy = try #require(rules.specifications[.heavy])
        #expect(world.drones[0].state == .offline && world.drones[0].battery == 0)
        // 1 % of 1,200 Wh at 45 Wh/km is 266.7 m.
        #expect(abs(world.drones[0].position.x - (1_000 + 1_000 / heavy.batteryPercent(forMetres: 1_000, payloadKg: 0))) < 1e-6)
        #expect(changes.contains(.droneOffline(id: "d-1", reason: "it ran out of battery in flight")))
        #expect(world.deliveries[delivery.id]?.state == .pending)
    }

    @Test("drones whose state makes no sense go offline; a drone whose delivery ended is released")
    func inconsistentStates() throws {
        let stranger = Fixture.delivery(1, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        var elsewhere = Fixture.delivery(2, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        elsewhere.state = .assigned
        elsewhere.droneID = "someone-else"
        var cancelled = Fixture.delivery(3, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        var dropped = Fixture.delivery(4, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))
        var early = Fixture.delivery(5, from: Point(x: 2_000, y: 2_000), to: Point(x: 3_000, y: 3_000))

        let noDelivery = Fixture.drone("no-delivery", at: Point(x: 1_000, y: 1_000), state: .assigned)
        var unknown = Fixture.drone("unknown", at: Point(x: 1_000, y: 1_000), state: .delivering)
        unknown.deliveryID = stranger.id
        var wrongDrone = Fixture.drone("wrong-drone", at: Point(x: 1_000, y: 1_000), state: .assigned)
        wrongDrone.deliveryID = elsewhere.id
        var released = Fixture.drone("released", at: Point(x: 1_000, y: 1_000))
        try released.take(&cancelled, nowMs: Fixture.startMs)
        try cancelled.cancel(nowMs: Fixture.startMs)
        var returning = Fixture.drone("returning", at: Point(x: 1_000, y: 1_000))
        try returning.take(&dropped, nowMs: Fixture.startMs)
        try dropped.pickUp(nowMs: Fixture.startMs)
        try returning.change(to: .delivering)
        try dropped.fail(reason: "parcel damaged", nowMs: Fixture.startMs)
        var mismatched = Fixture.drone("mismatched", at: Point(x: 1_000, y: 1_000))
        try mismatched.take(&early, nowMs: Fixture.startMs)
        try mismatched.change(to: .delivering)

        var world = FleetWorld(
            drones: [noDelivery, unknown, wrongDrone, released, returning, mismatched],
            deliveries: [elsewhere.id: elsewhere, cancelled.id: cancelled, dropped.id: dropped, early.id: early]
        )
        let changes = Simulation.tick(&world, seconds: 1, nowMs: Fixture.startMs, map: map, rules: rules)
        #expect(world.drones.map(\.state) == [.offline, .offline, .offline, .idle, .returning, .offline])
        #expect(changes.contains(.droneOffline(id: "no-delivery", reason: "it is assigned without a delivery")))
        #expect(changes.contains(.droneOffline(id: "unknown", reason: "it flies for delivery \(stranger.id.uuidString.lowercased()), which is unknown")))
        #expect(
            changes.contains(
                .droneOffline(id: "wrong-drone", reason: "it flies for delivery \(elsewhere.id.uuidString.lowercased()), which is on drone someone-else")
            )
        )
        #expect(changes.contains(.droneOffline(id: "mismatched", reason: "it is delivering but delivery \(early.id.uuidString.lowercased()) is assigned")))
        // Someone else's delivery is not touched; a delivery on a drone that makes no sense is requeued.
        #expect(world.deliveries[elsewhere.id] == elsewhere)
        #expect(world.deliveries[early.id]?.state == .pending)
        #expect(world.drones[3].deliveryID == nil && world.drones[4].deliveryID == nil && world.drones[4].chargingPointID != nil)
    }

    /// A dispatcher and a simulator running together, with cancellations, checking after every tick that no delivery
    /// is lost or double-booked and no battery goes below zero.
    @Test("deliveries are conserved over many ticks of dispatching and simulating", arguments: UInt64(1)...4)
    func conservation(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var rules = FleetRules.standard
        rules.candidatesPerDelivery = 4
        var drones = Fixture.randomDrones(80, using: &random)
        for index in stride(from: 0, to: drones.count, by: 5) { drones[index].state = .inactive }
        var world = FleetWorld(drones: drones, deliveries: [:])
        var ended: [UUID: Delivery] = [:]
        var created = 0
        var nowMs = Fixture.startMs
        for tick in 0..<1_500 {
            nowMs += Int64((Double.random(in: 1...90, using: &random) * 1000).rounded())
            // New deliveries for the first two thirds of the run, then the fleet works off its backlog.
            if tick < 1_000 {
                for _ in 0..<Int.random(in: 0...2, using: &random) {
                    let origin = Fixture.randomPoint(using: &random)
                    let destination = Fixture.randomPoint(using: &random)
                    let weight = Double.random(in: 0.2...10, using: &random)
                    guard Delivery.firstBrokenRule(origin: origin, destination: destination, weightKg: weight, priority: 0, map: map, rules: rules) == nil
                    else { continue }
                    let delivery = Fixture.delivery(
                        created,
                        from: origin,
                        to: destination,
                        weightKg: weight,
                        priority: Int.random(in: 0...3, using: &random),
                        createdAtMs: nowMs
                    )
                    world.deliveries[delivery.id] = delivery
                    created += 1
                }
            }
            // Now and then a client cancels a delivery that has not been picked up yet.
            if Int.random(in: 0..<10, using: &random) == 0,
                let id = world.deliveries.values.filter({ $0.state == .pending || $0.state == .assigned }).map(\.id).sorted(by: {
                    $0.uuidString < $1.uuidString
                }).randomElement(using: &random)
            {
                try world.deliveries[id]!.cancel(nowMs: nowMs)
                if let drone = world.drones.firstIndex(where: { $0.deliveryID == id }) { try world.drones[drone].releaseDelivery() }
            }
            let pending = world.deliveries.values.filter { $0.state == .pending }
            let droneIndex = Dictionary(uniqueKeysWithValues: world.drones.enumerated().map { ($1.id, $0) })
            for assignment in Dispatch.optimal(pending: pending, drones: world.drones, map: map, rules: rules) {
                try world.drones[droneIndex[assignment.droneID]!].take(&world.deliveries[assignment.deliveryID]!, nowMs: nowMs)
            }
            _ = Simulation.tick(&world, seconds: Double.random(in: 1...120, using: &random), nowMs: nowMs, map: map, rules: rules)
            for delivery in world.removeEndedDeliveries() { ended[delivery.id] = delivery }
            try checkInvariants(world, ended: ended, created: created)
        }
        // The backlog was worked off, all delivered (or cancelled) and nothing crashed.
        #expect(world.deliveries.isEmpty)
        #expect(ended.values.allSatisfy { $0.state == .delivered || $0.state == .cancelled })
        #expect(ended.values.count { $0.state == .delivered } > created / 2)
        #expect(world.drones.allSatisfy { $0.state != .offline })
    }

    func checkInvariants(_ world: FleetWorld, ended: [UUID: Delivery], created: Int) throws {
        // Every delivery created is in exactly one place: at work in the world, or ended.
        #expect(world.deliveries.count + ended.count == created)
        #expect(world.deliveries.keys.allSatisfy { ended[$0] == nil })
        var carriers: [UUID: [Drone]] = [:]
        for drone in world.drones {
            #expect(drone.battery >= 0 && drone.battery <= 100, "drone \(drone.id) battery \(drone.battery)")
            if let id = drone.deliveryID { carriers[id, default: []].append(drone) }
            #expect((drone.state == .assigned || drone.state == .delivering) == (drone.deliveryID != nil), "drone \(drone.id) is \(drone.state)")
        }
        for delivery in world.deliveries.values {
            let onBoard = carriers[delivery.id] ?? []
            switch delivery.state {
            case .pending:
                #expect(onBoard.isEmpty && delivery.droneID == nil)
            case .assigned, .pickedUp:
                #expect(onBoard.count == 1)
                let drone = try #require(onBoard.first)
                #expect(drone.id == delivery.droneID)
                #expect(drone.state == (delivery.state == .assigned ? .assigned : .delivering))
            case .delivered, .failed, .cancelled:
                Issue.record("ended delivery \(delivery.id) left in the world")
            }
        }
        #expect(Set(carriers.keys).isSubset(of: world.deliveries.keys))
    }
}

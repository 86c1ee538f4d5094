import Foundation
import Testing
import TurnoCore

@testable import Fleet

@Suite("Fleet domain: geometry, energy, feasibility, state machines, validation")
struct ModelTests {
    let map = FleetMap.standard
    let rules = FleetRules.standard

    @Test("moving towards a point never flies past it")
    func movingNeverOvershoots() {
        let from = Point(x: 0, y: 0)
        let to = Point(x: 300, y: 400)
        #expect(from.distance(to: to) == 500)
        #expect(from.moved(toward: to, by: 100) == Point(x: 60, y: 80))
        #expect(from.moved(toward: to, by: 500) == to)
        #expect(from.moved(toward: to, by: 1e12) == to)
        #expect(from.moved(toward: to, by: 0) == from)
        #expect(to.moved(toward: to, by: 10) == to)
        var random = SeededRandom(seed: 3)
        for _ in 0..<1_000 {
            let a = Fixture.randomPoint(using: &random)
            let b = Fixture.randomPoint(using: &random)
            let step = Double.random(in: 0...20_000, using: &random)
            let moved = a.moved(toward: b, by: step)
            #expect(moved.distance(to: b) <= max(0, a.distance(to: b) - step) + 1e-6)
        }
    }

    @Test("the standard map: 3 × 3 zones named by compass direction with north at high y, a 40-pad hub at each centre")
    func standardMap() {
        #expect(map.bounds == Bounds(minX: 0, minY: 0, maxX: 10_000, maxY: 10_000))
        #expect(map.zones.map(\.name) == ["North-West", "North", "North-East", "West", "Centre", "East", "South-West", "South", "South-East"])
        #expect(map.zones.map(\.id) == ["north-west", "north", "north-east", "west", "centre", "east", "south-west", "south", "south-east"])
        #expect(map.zone(containing: Point(x: 500, y: 9_500))?.id == "north-west")
        #expect(map.zone(containing: Point(x: 5_000, y: 5_000))?.id == "centre")
        #expect(map.zone(containing: Point(x: 9_999, y: 1))?.id == "south-east")
        #expect(map.zone(containing: Point(x: -1, y: 1)) == nil)
        #expect(map.chargingPoints.count == 9)
        for (zone, point) in zip(map.zones, map.chargingPoints) {
            #expect(point.id == "cp-\(zone.id)")
            #expect(point.name == "\(zone.name) hub")
            #expect(point.position == zone.bounds.center)
            #expect(point.pads == 40)
        }
        // The zones tile the map: a random point lies in exactly one zone, edges aside.
        var random = SeededRandom(seed: 9)
        for _ in 0..<500 {
            let point = Fixture.randomPoint(using: &random)
            #expect(map.zones.count { $0.bounds.contains(point) } == 1)
        }
    }

    @Test("nearest charging point, and nearest with a free pad; nil when all are full")
    func nearestChargingPoints() {
        let point = Point(x: 1_000, y: 9_000)
        #expect(map.nearestChargingPoint(to: point)?.id == "cp-north-west")
        #expect(map.nearestChargingPoint(to: point, withFreePadGiven: [:])?.id == "cp-north-west")
        #expect(map.nearestChargingPoint(to: point, withFreePadGiven: ["cp-north-west": 39])?.id == "cp-north-west")
        let next = map.nearestChargingPoint(to: point, withFreePadGiven: ["cp-north-west": 40])?.id
        #expect(next == "cp-north" || next == "cp-west")
        let full = Dictionary(uniqueKeysWithValues: map.chargingPoints.map { ($0.id, $0.pads) })
        #expect(map.nearestChargingPoint(to: point, withFreePadGiven: full) == nil)
        #expect(FleetMap(bounds: map.bounds, zones: [], chargingPoints: []).nearestChargingPoint(to: point) == nil)
    }

    @Test("wire names are snake_case")
    func codingKeys() throws {
        let drone = Drone(
            id: "d-1",
            type: .heavy,
            position: Point(x: 1, y: 2),
            battery: 50,
            state: .assigned,
            deliveryID: Fixture.uuid(1),
            chargingPointID: "cp-north"
        )
        let delivery = Fixture.delivery(1, from: Point(x: 1, y: 2), to: Point(x: 3, y: 4))
        let encoder = JSONCoding.encoder
        let droneJSON = try #require(String(data: encoder.encode(drone), encoding: .utf8))
        for key in ["\"delivery_id\"", "\"charging_point_id\"", "\"reports_telemetry\"", "\"battery\"", "\"version\""] { #expect(droneJSON.contains(key)) }
        let deliveryJSON = try #require(String(data: encoder.encode(delivery), encoding: .utf8))
        for key in ["\"weight_kg\"", "\"created_at\"", "\"state\":\"pending\""] { #expect(deliveryJSON.contains(key)) }
        let mapJSON = try #require(String(data: encoder.encode(map), encoding: .utf8))
        for key in ["\"min_x\"", "\"max_y\"", "\"charging_points\""] { #expect(mapJSON.contains(key)) }
        #expect(DeliveryState.pickedUp.rawValue == "picked_up")
        #expect(try JSONCoding.decoder.decode(Drone.self, from: encoder.encode(drone)) == drone)
        #expect(try JSONCoding.decoder.decode(Delivery.self, from: encoder.encode(delivery)) == delivery)
        #expect(try JSONCoding.decoder.decode(FleetMap.self, from: encoder.encode(map)) == map)
        let specification = try #require(rules.specifications[.light])
        #expect(try JSONCoding.decoder.decode(DroneSpecification.self, from: encoder.encode(specification)) == specification)
    }

    @Test("energy grows with distance and with payload, and a light drone at the default rates flies 20 km empty")
    func energy() throws {
        for type in DroneType.allCases {
            let specification = try #require(rules.specifications[type])
            var previous = -1.0
            for metres in stride(from: 0.0, through: 10_000, by: 500) {
                let percent = specification.batteryPercent(forMetres: metres, payloadKg: 1)
                #expect(percent > previous)
                previous = percent
            }
            previous = -1
            for payload in stride(from: 0.0, through: specification.maxPayloadKg, by: 0.5) {
                let percent = specification.batteryPercent(forMetres: 1_000, payloadKg: payload)
                #expect(percent > previous)
                previous = percent
            }
            #expect(specification.batteryPercent(forMetres: 0, payloadKg: specification.maxPayloadKg) == 0)
        }
        #expect(abs(try #require(rules.specifications[.light]).batteryPercent(forMetres: 20_000, payloadKg: 0) - 100) < 1e-9)
        #expect(abs(try #require(rules.specifications[.heavy]).batteryPercent(forMetres: 1_000, payloadKg: 10) - 65.0 / 12) < 1e-9)
    }

    @Test("feasibility: the whole trip to the charging point plus the reserve, payload class, idle only")
    func feasibilityRules() throws {
        let hub = try #require(map.chargingPoints.first { $0.id == "cp-centre" }).position
        // Origin 1 km east of the centre hub, destination 1 km north of the origin; the hub nearest the destination is the centre one.
        let origin = Point(x: hub.x + 1_000, y: hub.y)
        let destination = Point(x: hub.x + 1_000, y: hub.y + 1_000)
        let delivery = Fixture.delivery(1, from: origin, to: destination, weightKg: 1)
        let light = try #require(rules.specifications[.light])
        let toHub = destination.distance(to: hub)
        let trip = light.batteryPercent(forMetres: 1_000, payloadKg: 1) + light.batteryPercent(forMetres: toHub, payloadKg: 0) + rules.reservePercent
        let needed = light.batteryPercent(forMetres: 1_000, payloadKg: 0) + trip
        var drone = Fixture.drone("d-1", .light, at: hub, battery: needed)
        #expect(feasibility(of: drone, for: delivery, map: map, rules: rules) == .feasible(pickUpSeconds: 1_000 / 18, batteryNeeded: needed))
        // Just short: the reserve or the leg home is what is missing.
        drone.battery = needed - 0.01
        #expect(feasibility(of: drone, for: delivery, map: map, rules: rules) == .notEnoughBattery(needed: needed))
        drone.battery = needed - rules.reservePercent + 0.01
        #expect(!feasibility(of: drone, for: delivery, map: map, rules: rules).isFeasible)
        drone.battery = needed - light.batteryPercent(forMetres: toHub, payloadKg: 0) + 0.01
        #expect(!feasibility(of: drone, for: delivery, map: map, rules: rules).isFeasible)
        // Too heavy for a light drone, fine for a medium one.
        drone.battery = 100
        let heavyParcel = Fixture.delivery(2, from: origin, to: destination, weightKg: 2.5)
        #expect(feasibility(of: drone, for: heavyParcel, map: map, rules: rules) == .tooHeavy)
        drone.type = .medium
        #expect(feasibility(of: drone, for: heavyParcel, map: map, rules: rules).isFeasible)
        // Only idle drones with a real battery reading and a specified type.
        for state in DroneState.allCases where state != .idle {
            drone.state = state
            #expect(feasibility(of: drone, for: heavyParcel, map: map, rules: rules) == .unavailable)
        }
        drone.state = .idle
        drone.battery = .nan
        #expect(feasibility(of: drone, for: heavyParcel, map: map, rules: rules) == .unavailable)
        drone.battery = 100
        var noMedium = rules
        noMedium.specifications[.medium] = nil
        #expect(feasibility(of: drone, for: heavyParcel, map: map, rules: noMedium) == .unavailable)
    }

    @Test("drone transitions: exactly the documented table is allowed, exhaustively", arguments: DroneState.allCases)
    func droneTransitions(from: DroneState) {
        let allowed: [DroneState: Set<DroneState>] = [
            .inactive: [.idle, .offline],
            .idle: [.assigned, .returning, .retiring, .offline],
            .assigned: [.delivering, .idle, .offline],
            .delivering: [.returning, .offline],
            .returning: [.charging, .offline],
            .charging: [.idle, .retiring, .offline],
            .retiring: [.inactive, .offline],
            .offline: [.inactive],
        ]
        for to in DroneState.allCases {
            var drone = Fixture.drone("d-1", at: Point(x: 0, y: 0), state: from)
            let legal = allowed[from]!.contains(to)
            #expect(from.canChange(to: to) == legal)
            do throws(FleetRuleViolation) {
                try drone.change(to: to)
                #expect(legal, "\(from) → \(to) should be refused")
                #expect(drone.state == to && drone.version == 2)
            } catch {
                #expect(!legal, "\(from) → \(to) should be allowed")
                #expect(error.detail == "drone d-1 is \(from.rawValue) and cannot become \(to.rawValue)")
                #expect(drone.state == from && drone.version == 1)
            }
        }
    }

    @Test("activate, retire, take and release")
    func droneCommands() throws {
        var drone = Fixture.drone("d-1", at: Point(x: 0, y: 0), state: .inactive)
        try drone.activate()
        #expect(drone.state == .idle)
        #expect(throws: FleetRuleViolation.self) { try drone.activate() }
        var delivery = Fixture.delivery(1, from: Point(x: 10, y: 0), to: Point(x: 20, y: 0))
        try drone.take(&delivery, nowMs: Fixture.startMs)
        #expect(drone.state == .assigned && drone.deliveryID == delivery.id && drone.target == delivery.origin)
        #expect(delivery.state == .assigned && delivery.droneID == "d-1" && delivery.assignedAtMs == Fixture.startMs)
        // A second delivery is refused and neither side changes.
        var other = Fixture.delivery(2, from: Point(x: 10, y: 0), to: Point(x: 20, y: 0))
        let before = (drone, other)
        #expect(throws: FleetRuleViolation.self) { try drone.take(&other, nowMs: Fixture.startMs) }
        #expect(drone == before.0 && other == before.1)
        // A busy delivery is refused too, and the idle drone stays idle.
        var free = Fixture.drone("d-2", at: Point(x: 0, y: 0))
        #expect(throws: FleetRuleViolation.self) { try free.take(&delivery, nowMs: Fixture.startMs) }
        #expect(free.state == .idle && free.version == 1)
        #expect(throws: FleetRuleViolation.self) { try drone.retire() }
        try drone.releaseDelivery()
        #expect(drone.state == .idle && drone.deliveryID == nil && drone.target == nil)
        #expect(throws: FleetRuleViolation.self) { try drone.releaseDelivery() }
        try drone.retire()
        #expect(drone.state == .retiring)
        var delivering = Fixture.drone("d-3", at: Point(x: 0, y: 0), state: .delivering)
        try delivering.releaseDelivery()
        #expect(delivering.state == .returning)
    }

    enum DeliveryAction: String, CaseIterable {
        case assign, pickUp, deliver, fail, cancel, requeue

        var allowedFrom: Set<DeliveryState> {
            switch self {
            case .assign: [.pending]
            case .pickUp: [.assigned]
            case .deliver: [.pickedUp]
            case .fail: [.pending, .assigned, .pickedUp]
            case .cancel: [.pending, .assigned]
            case .requeue: [.assigned, .pickedUp]
            }
        }

        var words: String {
            switch self {
            case .assign: "assigned"
            case .pickUp: "picked up"
            case .deliver: "delivered"
            case .fail: "failed"
            case .cancel: "cancelled"
            case .requeue: "requeued"
            }
        }

        func apply(to delivery: inout Delivery, nowMs: Int64) throws(FleetRuleViolation) {
            switch self {
            case .assign: try delivery.assign(to: "d-9", nowMs: nowMs)
            case .pickUp: try delivery.pickUp(nowMs: nowMs)
            case .deliver: try delivery.deliver(nowMs: nowMs)
            case .fail: try delivery.fail(reason: "dropped", nowMs: nowMs)
            case .cancel: try delivery.cancel(nowMs: nowMs)
            case .requeue: try delivery.requeue(reason: "drone lost")
            }
        }
    }

    @Test("delivery transitions: every action from every state, exhaustively", arguments: DeliveryAction.allCases)
    func deliveryTransitions(action: DeliveryAction) {
        let nowMs = Fixture.startMs + 60_000
        for state in DeliveryState.allCases {
            var delivery = Fixture.delivery(1, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
            delivery.state = state
            if state != .pending {
                delivery.droneID = "d-1"
                delivery.assignedAtMs = Fixture.startMs
            }
            let legal = action.allowedFrom.contains(state)
            let before = delivery
            do throws(FleetRuleViolation) {
                try action.apply(to: &delivery, nowMs: nowMs)
                #expect(legal, "\(action) from \(state) should be refused")
                #expect(delivery.version == before.version + 1)
                switch action {
                case .assign: #expect(delivery.state == .assigned && delivery.droneID == "d-9" && delivery.assignedAtMs == nowMs)
                case .pickUp: #expect(delivery.state == .pickedUp && delivery.pickedUpAtMs == nowMs)
                case .deliver: #expect(delivery.state == .delivered && delivery.deliveredAtMs == nowMs && delivery.endedAtMs == nowMs)
                case .fail: #expect(delivery.state == .failed && delivery.reason == "dropped" && delivery.endedAtMs == nowMs)
                case .cancel: #expect(delivery.state == .cancelled && delivery.endedAtMs == nowMs)
                case .requeue:
                    #expect(delivery.state == .pending && delivery.droneID == nil && delivery.assignedAtMs == nil && delivery.pickedUpAtMs == nil)
                    #expect(delivery.reason == "drone lost")
                }
            } catch {
                #expect(!legal, "\(action) from \(state) should be allowed")
                #expect(delivery == before)
                let stateWords = state.rawValue.replacingOccurrences(of: "_", with: " ")
                #expect(error.detail == "delivery 00000000-0000-0000-0000-000000000001 is \(stateWords) and cannot be \(action.words)")
            }
        }
    }

    @Test("final states")
    func finalStates() {
        #expect(DeliveryState.allCases.filter(\.isFinal) == [.delivered, .failed, .cancelled])
    }

    @Test("validation of a new delivery: weight, priority, points on the map, a trip some drone can fly")
    func validation() {
        func problem(
            _ origin: Point = Point(x: 1_000, y: 1_000),
            _ destination: Point = Point(x: 2_000, y: 2_000),
            weight: Double = 1,
            priority: Int = 5
        ) -> String? {
            Delivery.firstBrokenRule(origin: origin, destination: destination, weightKg: weight, priority: priority, map: map, rules: rules)
        }
        #expect(problem() == nil)
        #expect(problem(weight: 25) == nil)
        #expect(problem(weight: 0) == "weight_kg must be a positive number of kilograms")
        #expect(problem(weight: -1) != nil)
        #expect(problem(weight: .nan) != nil)
        #expect(problem(weight: 25.5) == "weight_kg is 25.5 kg; the largest drone carries at most 25 kg")
        #expect(problem(priority: -1) == "priority must be between 0 and 9")
        #expect(problem(priority: 10) != nil)
        #expect(problem(Point(x: -1, y: 0)) == "origin must lie on the map: x from 0 to 10000 m, y from 0 to 10000 m")
        #expect(problem(Point(x: 0, y: 0), Point(x: 0, y: 10_001))?.hasPrefix("destination must lie on the map") == true)
        #expect(problem(Point(x: .nan, y: 0)) != nil)
        #expect(problem(Point(x: 5, y: 5), Point(x: 5, y: 5)) == "origin and destination are the same point")
        // A heavy parcel across the whole map: 14 km at 95 Wh/km is more than a full heavy battery.
        #expect(problem(Point(x: 0, y: 0), Point(x: 10_000, y: 10_000), weight: 25)?.hasPrefix("no drone able to lift 25 kg") == true)
        #expect(problem(Point(x: 0, y: 0), Point(x: 10_000, y: 10_000), weight: 1) == nil)
    }
}

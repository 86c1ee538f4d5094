import Foundation

/// What the simulator works on: every drone, and the deliveries the drones are working on.
public struct FleetWorld: Sendable {
    public var drones: [Drone]
    /// The non-final deliveries the drones fly for. A tick leaves the ones it ends in here, in their final state,
    /// so the caller can store them; ``removeEndedDeliveries()`` then drops them.
    public var deliveries: [UUID: Delivery]

    public init(drones: [Drone], deliveries: [UUID: Delivery]) {
        self.drones = drones
        self.deliveries = deliveries
    }

    /// Takes the delivered, failed and cancelled deliveries out of the world and returns them.
    public mutating func removeEndedDeliveries() -> [Delivery] {
        let ended = deliveries.values.filter(\.state.isFinal)
        for delivery in ended { deliveries[delivery.id] = nil }
        return ended
    }
}

/// Something a tick changed, for the caller to store and publish. Moves and battery levels are not listed: every
/// simulated drone's position and battery may change on every tick.
public enum FleetChange: Sendable, Equatable {
    case droneChanged(id: String, from: DroneState, to: DroneState)
    /// Why a drone went offline; follows its `droneChanged(…, to: .offline)`.
    case droneOffline(id: String, reason: String)
    case deliveryPickedUp(UUID)
    case deliveryDelivered(UUID)
    /// Back to pending because its drone went offline.
    case deliveryRequeued(UUID, reason: String)
}

/// The simulated fleet: how drones move, spend and recharge their batteries, pick parcels up and deliver them.
public enum Simulation {
    /// Advances every simulated drone by `seconds` (drones with `reportsTelemetry` report their own state and are
    /// left alone; `inactive` and `offline` ones stay put). Per state:
    ///
    /// - `assigned`: flies empty to its delivery's origin; there it picks the parcel up and becomes `delivering`.
    /// - `delivering`: flies loaded to the destination; there it delivers and becomes `returning`, heading for the
    ///   nearest charging point it can reach that has a pad to spare (pads count the drones charging at a point and
    ///   those already heading there), or the nearest point when none has.
    /// - `returning`: flies to its point; there it starts `charging` if a pad is free, or waits landed beside the
    ///   pads, spending nothing, until one is.
    /// - `charging`: gains `rules.chargePercentPerSecond` per second; full, it becomes `idle`.
    /// - `idle`: below `rules.lowBatteryPercent` it starts `returning`.
    /// - `retiring`: flies to its point (the nearest when it has none) and becomes `inactive` there.
    ///
    /// A drone whose battery reading is not a number in 0…100, whose position is not a number, that runs out of
    /// battery in flight, or whose state makes no sense (flying for a delivery the world does not hold, that is not
    /// in the matching state or names another drone) goes `offline`, and its delivery, if it was flying it, goes
    /// back to pending. A delivery that ended (cancelled, say) while its drone was still on it just releases the
    /// drone. A drone that arrives during the tick stops there until the next one, so long ticks never overshoot.
    /// Versions change only with states, never with moves. Pick-ups and deliveries are stamped `nowMs`
    /// (milliseconds since 1970, UTC).
    public static func tick(_ world: inout FleetWorld, seconds: Double, nowMs: Int64, map: FleetMap, rules: FleetRules) -> [FleetChange] {
        var stepper = TickStepper(seconds: seconds > 0 ? seconds : 0, nowMs: nowMs, map: map, rules: rules, drones: world.drones)
        for index in world.drones.indices where !world.drones[index].reportsTelemetry {
            stepper.advance(&world.drones[index], deliveries: &world.deliveries)
        }
        return stepper.changes
    }
}

/// Pads per charging point: how many are promised (drones charging there or heading there) and how many are busy.
struct HubOccupancy {
    let map: FleetMap
    private let indexByID: [String: Int]
    private(set) var promised: [Int]
    private(set) var charging: [Int]

    init(map: FleetMap, drones: [Drone]) {
        self.map = map
        indexByID = Dictionary(map.chargingPoints.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        promised = [Int](repeating: 0, count: map.chargingPoints.count)
        charging = promised
        for drone in drones {
            guard let hub = index(of: drone.chargingPointID) else { continue }
            switch drone.state {
            case .returning: promised[hub] += 1
            case .charging:
                promised[hub] += 1
                charging[hub] += 1
            default: break
            }
        }
    }

    func index(of id: String?) -> Int? {
        id.flatMap { indexByID[$0] }
    }

    /// The nearest point with a pad to spare that `drone` can reach on its battery, else the nearest point.
    func choose(for drone: Drone, specification: DroneSpecification) -> Int? {
        var best: Int?
        var bestDistance = Double.infinity
        for (hub, point) in map.chargingPoints.enumerated() where promised[hub] < point.pads {
            let distance = drone.position.distance(to: point.position)
            if distance < bestDistance, specification.batteryPercent(forMetres: distance, payloadKg: 0) <= drone.battery {
                best = hub
                bestDistance = distance
            }
        }
        return best ?? map.nearestChargingPointIndex(to: drone.position)
    }

    mutating func promise(_ hub: Int) {
        promised[hub] += 1
    }

    mutating func startCharging(_ hub: Int) {
        charging[hub] += 1
    }

    /// A drone that was `returning` to or `charging` at `hub` leaves it.
    mutating func leave(_ hub: Int, wasCharging: Bool) {
        promised[hub] -= 1
        if wasCharging { charging[hub] -= 1 }
    }
}

/// One tick's worth of work, drone by drone, collecting the changes.
struct TickStepper {
    let seconds: Double
    /// Stamped on the deliveries' changes, in milliseconds since 1970 (UTC).
    let nowMs: Int64
    let rules: FleetRules
    var hubs: HubOccupancy
    var changes: [FleetChange] = []

    init(seconds: Double, nowMs: Int64, map: FleetMap, rules: FleetRules, drones: [Drone]) {
        self.seconds = seconds
        self.nowMs = nowMs
        self.rules = rules
        hubs = HubOccupancy(map: map, drones: drones)
    }

    mutating func advance(_ drone: inout Drone, deliveries: inout [UUID: Delivery]) {
        guard drone.state != .offline else { return }
        do throws(FleetRuleViolation) {
            try step(&drone, deliveries: &deliveries)
        } catch {
            takeOffline(&drone, reason: error.detail, deliveries: &deliveries)
        }
    }

    private mutating func change(_ drone: inout Drone, to next: DroneState) throws(FleetRuleViolation) {
        let previous = drone.state
        try drone.change(to: next)
        changes.append(.droneChanged(id: drone.id, from: previous, to: next))
    }

    /// Everything but going offline; a thrown violation says why the drone must go offline.
    private mutating func step(_ drone: inout Drone, deliveries: inout [UUID: Delivery]) throws(FleetRuleViolation) {
        guard drone.battery.isFinite, drone.battery >= 0, drone.battery <= 100 else {
            throw FleetRuleViolation("battery reading \(drone.battery) is not a percentage")
        }
        guard drone.state != .inactive else { return }
        guard drone.position.isFinite else { throw FleetRuleViolation("its position is not a number") }
        guard let specification = rules.specifications[drone.type] else {
            throw FleetRuleViolation("there is no specification for \(drone.type.rawValue) drones")
        }
        switch drone.state {
        case .inactive, .offline:
            return
        case .idle:
            guard drone.battery < rules.lowBatteryPercent else { return }
            try change(&drone, to: .returning)
            headForHub(&drone, specification: specification)
        case .assigned:
            guard var delivery = try delivery(of: drone, expecting: .assigned, in: deliveries) else {
                try drone.releaseDelivery()
                changes.append(.droneChanged(id: drone.id, from: .assigned, to: .idle))
                return
            }
            guard try fly(&drone, to: delivery.origin, payloadKg: 0, specification: specification) else { return }
            try delivery.pickUp(nowMs: nowMs)
            try change(&drone, to: .delivering)
            drone.target = delivery.destination
            deliveries[delivery.id] = delivery
            changes.append(.deliveryPickedUp(delivery.id))
        case .delivering:
            guard var delivery = try delivery(of: drone, expecting: .pickedUp, in: deliveries) else {
                try drone.releaseDelivery()
                changes.append(.droneChanged(id: drone.id, from: .delivering, to: .returning))
                headForHub(&drone, specification: specification)
                return
            }
            guard try fly(&drone, to: delivery.destination, payloadKg: delivery.weightKg, specification: specification) else { return }
            try delivery.deliver(nowMs: nowMs)
            try change(&drone, to: .returning)
            drone.deliveryID = nil
            deliveries[delivery.id] = delivery
            changes.append(.deliveryDelivered(delivery.id))
            headForHub(&drone, specification: specification)
        case .returning:
            guard let hub = hubs.index(of: drone.chargingPointID) ?? headForHub(&drone, specification: specification) else { return }
            let point = hubs.map.chargingPoints[hub]
            guard try fly(&drone, to: point.position, payloadKg: 0, specification: specification), hubs.charging[hub] < point.pads else { return }
            try change(&drone, to: .charging)
            drone.target = nil
            hubs.startCharging(hub)
        case .charging:
            drone.battery = min(100, drone.battery + rules.chargePercentPerSecond * seconds)
            guard drone.battery >= 100 else { return }
            try change(&drone, to: .idle)
            if let hub = hubs.index(of: drone.chargingPointID) { hubs.leave(hub, wasCharging: true) }
            drone.chargingPointID = nil
        case .retiring:
            let hub = hubs.index(of: drone.chargingPointID) ?? hubs.map.nearestChargingPointIndex(to: drone.position)
            if let hub {
                drone.chargingPointID = hubs.map.chargingPoints[hub].id
                guard try fly(&drone, to: hubs.map.chargingPoints[hub].position, payloadKg: 0, specification: specification) else { return }
            }
            try change(&drone, to: .inactive)
            drone.target = nil
            drone.chargingPointID = nil
        }
    }

    /// The delivery a flying drone works for, checked against the drone; nil when it has ended, so the drone is free.
    private func delivery(of drone: Drone, expecting state: DeliveryState, in deliveries: [UUID: Delivery]) throws(FleetRuleViolation) -> Delivery? {
        guard let id = drone.deliveryID else { throw FleetRuleViolation("it is \(drone.state.rawValue) without a delivery") }
        guard let delivery = deliveries[id] else { throw FleetRuleViolation("it flies for delivery \(id.uuidString.lowercased()), which is unknown") }
        guard delivery.droneID == drone.id else {
            throw FleetRuleViolation(
                "it flies for delivery \(id.uuidString.lowercased()), which is \(delivery.droneID.map { "on drone \($0)" } ?? "on no drone")"
            )
        }
        guard !delivery.state.isFinal else { return nil }
        guard delivery.state == state else {
            throw FleetRuleViolation("it is \(drone.state.rawValue) but delivery \(id.uuidString.lowercased()) is \(delivery.state.words)")
        }
        return delivery
    }

    /// Sends a drone that has just started returning to a hub, and promises it a pad there.
    @discardableResult
    private mutating func headForHub(_ drone: inout Drone, specification: DroneSpecification) -> Int? {
        guard let hub = hubs.choose(for: drone, specification: specification) else {
            drone.target = nil
            return nil
        }
        drone.chargingPointID = hubs.map.chargingPoints[hub].id
        drone.target = hubs.map.chargingPoints[hub].position
        hubs.promise(hub)
        return hub
    }

    /// Flies towards `target` for the tick, spending battery; true when it got there (and stopped there).
    private func fly(_ drone: inout Drone, to target: Point, payloadKg: Double, specification: DroneSpecification) throws(FleetRuleViolation) -> Bool {
        drone.target = target
        let remaining = drone.position.distance(to: target)
        let metres = min(remaining, specification.cruiseSpeed * seconds)
        let cost = specification.batteryPercent(forMetres: metres, payloadKg: payloadKg)
        guard cost <= drone.battery else {
            // It gets as far as its last drop of energy takes it.
            drone.position = drone.position.moved(toward: target, by: metres * drone.battery / cost)
            drone.battery = 0
            throw FleetRuleViolation("it ran out of battery in flight")
        }
        drone.battery = max(0, drone.battery - cost)
        guard metres < remaining else {
            drone.position = target
            return true
        }
        drone.position = drone.position.moved(toward: target, by: metres)
        return false
    }

    private mutating func takeOffline(_ drone: inout Drone, reason: String, deliveries: inout [UUID: Delivery]) {
        let previous = drone.state
        guard (try? drone.change(to: .offline)) != nil else { return }
        if previous == .returning || previous == .charging, let hub = hubs.index(of: drone.chargingPointID) {
            hubs.leave(hub, wasCharging: previous == .charging)
        }
        changes.append(.droneChanged(id: drone.id, from: previous, to: .offline))
        changes.append(.droneOffline(id: drone.id, reason: reason))
        let requeueReason = "drone \(drone.id) went offline: \(reason)"
        // Only a delivery this drone was flying goes back to the queue; one that names another drone is not its own.
        if let id = drone.deliveryID, var delivery = deliveries[id], delivery.droneID == drone.id, (try? delivery.requeue(reason: requeueReason)) != nil {
            deliveries[id] = delivery
            changes.append(.deliveryRequeued(id, reason: requeueReason))
        }
        drone.deliveryID = nil
        drone.target = nil
        drone.chargingPointID = nil
    }
}

import Foundation
import TurnoCore

/// A payload class: light drones are fast and frugal, heavy ones carry more and drink more.
public enum DroneType: String, Codable, Sendable, CaseIterable {
    case light, medium, heavy
}

/// What one type of drone can do: how much it lifts, how fast it flies, how much energy it carries and spends.
public struct DroneSpecification: Codable, Sendable, Hashable {
    public var maxPayloadKg: Double
    /// Metres per second, the same loaded or empty.
    public var cruiseSpeed: Double
    public var batteryCapacityWh: Double
    /// Energy per kilometre when flying empty.
    public var consumptionWhPerKm: Double
    /// Extra energy per kilometre for each kilogram carried.
    public var consumptionWhPerKmPerKg: Double

    public init(maxPayloadKg: Double, cruiseSpeed: Double, batteryCapacityWh: Double, consumptionWhPerKm: Double, consumptionWhPerKmPerKg: Double) {
        self.maxPayloadKg = maxPayloadKg
        self.cruiseSpeed = cruiseSpeed
        self.batteryCapacityWh = batteryCapacityWh
        self.consumptionWhPerKm = consumptionWhPerKm
        self.consumptionWhPerKmPerKg = consumptionWhPerKmPerKg
    }

    /// Share of a full battery, in percent, spent flying `metres` with `payloadKg` on board: consumption grows
    /// linearly with both distance and payload.
    @inlinable
    public func batteryPercent(forMetres metres: Double, payloadKg: Double) -> Double {
        metres / 1000 * (consumptionWhPerKm + consumptionWhPerKmPerKg * payloadKg) / batteryCapacityWh * 100
    }
}

/// The fleet's operating rules that are settings rather than code.
public struct FleetRules: Sendable, Hashable {
    /// A drone type without a specification here is never dispatched nor simulated.
    public var specifications: [DroneType: DroneSpecification]
    /// Battery, in percent, a drone must still hold when it lands at a charging point after a delivery.
    public var reservePercent: Double
    /// An idle drone below this battery level goes to charge.
    public var lowBatteryPercent: Double
    /// How fast a drone on a pad charges.
    public var chargePercentPerSecond: Double
    /// How many candidate drones (the quickest to reach its origin) each delivery considers in the optimal dispatch:
    /// what keeps the matching sparse, hence fast, on large fleets.
    public var candidatesPerDelivery: Int
    /// A delivery assigned or picked up this long ago without progress is reconciled (requeued or failed).
    public var stuckAfterSeconds: Double
    /// Idle drones kept ready when there is no backlog; fleet sizing retires those beyond.
    public var spareIdleDrones: Int

    public init(
        specifications: [DroneType: DroneSpecification] = FleetRules.standardSpecifications,
        reservePercent: Double = 10,
        lowBatteryPercent: Double = 25,
        chargePercentPerSecond: Double = 0.5,
        candidatesPerDelivery: Int = 8,
        stuckAfterSeconds: Double = 1800,
        spareIdleDrones: Int = 20
    ) {
        self.specifications = specifications
        self.reservePercent = reservePercent
        self.lowBatteryPercent = lowBatteryPercent
        self.chargePercentPerSecond = chargePercentPerSecond
        self.candidatesPerDelivery = candidatesPerDelivery
        self.stuckAfterSeconds = stuckAfterSeconds
        self.spareIdleDrones = spareIdleDrones
    }

    public static let standardSpecifications: [DroneType: DroneSpecification] = [
        .light: DroneSpecification(maxPayloadKg: 2, cruiseSpeed: 18, batteryCapacityWh: 200, consumptionWhPerKm: 10, consumptionWhPerKmPerKg: 3),
        .medium: DroneSpecification(maxPayloadKg: 8, cruiseSpeed: 15, batteryCapacityWh: 500, consumptionWhPerKm: 20, consumptionWhPerKmPerKg: 2.5),
        .heavy: DroneSpecification(maxPayloadKg: 25, cruiseSpeed: 12, batteryCapacityWh: 1200, consumptionWhPerKm: 45, consumptionWhPerKmPerKg: 2),
    ]

    public static let standard = FleetRules()

    /// The heaviest parcel any drone type lifts; 0 when there is no specification at all.
    public var largestPayloadKg: Double {
        specifications.values.map(\.maxPayloadKg).max() ?? 0
    }
}

/// A rule of the fleet that a command would break: a conflict with the state the drone or delivery is in.
public struct FleetRuleViolation: RuleViolation, Equatable {
    public let detail: String
    public var kind: RuleViolationKind { .conflict }

    public init(_ detail: String) {
        self.detail = detail
    }
}

/// What a drone is doing. Changes follow this table (anything else is refused):
///
/// | from         | to                                          | why                                                   |
/// |--------------|---------------------------------------------|-------------------------------------------------------|
/// | `inactive`   | `idle`                                      | activated by fleet sizing or an operator              |
/// | `idle`       | `assigned`                                  | the dispatcher gave it a delivery                     |
/// | `idle`       | `returning`                                 | battery low: off to charge                            |
/// | `idle`       | `retiring`                                  | surplus: off to be parked                             |
/// | `assigned`   | `delivering`                                | picked the parcel up                                  |
/// | `assigned`   | `idle`                                      | its delivery was cancelled, failed or requeued        |
/// | `delivering` | `returning`                                 | delivered (or the delivery ended some other way)      |
/// | `returning`  | `charging`                                  | landed on a free pad                                  |
/// | `charging`   | `idle`                                      | full                                                  |
/// | `charging`   | `retiring`                                  | surplus: stays parked at its hub                      |
/// | `retiring`   | `inactive`                                  | reached a hub                                         |
/// | any but `offline` | `offline`                              | battery fault, empty battery, or an impossible state  |
/// | `offline`    | `inactive`                                  | an operator checked it and put it back in the hangar  |
public enum DroneState: String, Codable, Sendable, CaseIterable {
    case inactive, idle, assigned, delivering, returning, charging, retiring, offline

    /// Whether the table above allows going from this state to `next`.
    public func canChange(to next: DroneState) -> Bool {
        switch (self, next) {
        case (.offline, .inactive): true
        case (.offline, _): false
        case (_, .offline): true
        case (.inactive, .idle),
            (.idle, .assigned), (.idle, .returning), (.idle, .retiring),
            (.assigned, .delivering), (.assigned, .idle),
            (.delivering, .returning),
            (.returning, .charging),
            (.charging, .idle), (.charging, .retiring),
            (.retiring, .inactive):
            true
        default: false
        }
    }
}

/// One drone of the fleet, simulated or real.
public struct Drone: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var type: DroneType
    public var position: Point
    /// Percent of a full battery, 0 to 100.
    public var battery: Double
    public var state: DroneState
    /// The delivery it flies for while `assigned` or `delivering`.
    public var deliveryID: UUID?
    /// Where it is flying to: the delivery's origin, its destination, or a charging point.
    public var target: Point?
    /// The hub it is returning to, charging at or retiring to.
    public var chargingPointID: String?
    /// A real drone that reports its own position and state; the simulator leaves it alone.
    public var reportsTelemetry: Bool
    /// Bumped on every state change (not on moves), for optimistic concurrency.
    public var version: Int

    public init(
        id: String,
        type: DroneType,
        position: Point,
        battery: Double,
        state: DroneState = .inactive,
        deliveryID: UUID? = nil,
        target: Point? = nil,
        chargingPointID: String? = nil,
        reportsTelemetry: Bool = false,
        version: Int = 1
    ) {
        self.id = id
        self.type = type
        self.position = position
        self.battery = battery
        self.state = state
        self.deliveryID = deliveryID
        self.target = target
        self.chargingPointID = chargingPointID
        self.reportsTelemetry = reportsTelemetry
        self.version = version
    }

    /// `…ID` properties are written `…Id`, which the snake_case coding turns into `…_id` and back.
    enum CodingKeys: String, CodingKey {
        case id, type, position, battery, state, target, version, reportsTelemetry
        case deliveryID = "deliveryId"
        case chargingPointID = "chargingPointId"
    }

    /// Moves to `next` if the table on ``DroneState`` allows it, and bumps the version.
    public mutating func change(to next: DroneState) throws(FleetRuleViolation) {
        guard state.canChange(to: next) else {
            throw FleetRuleViolation("drone \(id) is \(state.rawValue) and cannot become \(next.rawValue)")
        }
        state = next
        version += 1
    }

    /// Puts an inactive drone into service.
    public mutating func activate() throws(FleetRuleViolation) {
        guard state == .inactive else {
            throw FleetRuleViolation("drone \(id) is \(state.rawValue); only an inactive drone can be activated")
        }
        try change(to: .idle)
    }

    /// Takes an idle or charging drone out of service: it flies to a hub (the simulator picks the nearest when it
    /// has none) and becomes inactive there.
    public mutating func retire() throws(FleetRuleViolation) {
        guard state == .idle || state == .charging else {
            throw FleetRuleViolation("drone \(id) is \(state.rawValue); only an idle or charging drone can retire")
        }
        try change(to: .retiring)
        target = nil
    }

    /// Takes a pending delivery: the drone becomes `assigned` and heads for the origin, the delivery becomes
    /// assigned to it at `nowMs` (milliseconds since 1970, UTC). Either both change or, when one of them is not free,
    /// neither does.
    public mutating func take(_ delivery: inout Delivery, nowMs: Int64) throws(FleetRuleViolation) {
        guard state.canChange(to: .assigned) else {
            throw FleetRuleViolation("drone \(id) is \(state.rawValue) and cannot take a delivery")
        }
        try delivery.assign(to: id, nowMs: nowMs)
        try change(to: .assigned)
        deliveryID = delivery.id
        target = delivery.origin
        chargingPointID = nil
    }

    /// Takes the drone out of service: a delivery it was flying for goes back to the backlog with `reason`.
    public mutating func goOffline(carrying delivery: inout Delivery?, reason: String) throws(FleetRuleViolation) {
        try change(to: .offline)
        if var parcel = delivery, parcel.state == .assigned || parcel.state == .pickedUp {
            try parcel.requeue(reason: reason)
            delivery = parcel
        }
        deliveryID = nil
        target = nil
    }

    /// Lets go of its delivery once that delivery was cancelled, failed or requeued: an assigned drone becomes idle
    /// where it is, a delivering one returns to charge (the simulator picks the hub).
    public mutating func releaseDelivery() throws(FleetRuleViolation) {
        switch state {
        case .assigned: try change(to: .idle)
        case .delivering: try change(to: .returning)
        // Already out of service: it only lets go.
        case .offline: guard deliveryID != nil else { throw FleetRuleViolation("drone \(id) is offline and carries no delivery") }
        default: throw FleetRuleViolation("drone \(id) is \(state.rawValue) and carries no delivery")
        }
        deliveryID = nil
        target = nil
        chargingPointID = nil
    }
}

/// Where a delivery stands; ``Delivery`` describes the life cycle.
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    case pending, assigned
    case pickedUp = "picked_up"
    case delivered, failed, cancelled

    /// Over for good: delivered, failed or cancelled.
    public var isFinal: Bool { self == .delivered || self == .failed || self == .cancelled }

    /// How messages spell it: "picked up".
    var words: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

/// A parcel to carry from `origin` to `destination`.
///
/// Its life: `pending` → `assigned` (a drone is on its way) → `pickedUp` (in flight) → `delivered`, with
/// `failed` possible from any non-final state, `cancelled` only before pick-up, and `requeue` sending an assigned or
/// picked-up delivery back to `pending` when its drone is lost.
public struct Delivery: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    public var origin: Point
    public var destination: Point
    public var weightKg: Double
    /// 0 to 9; higher priorities are dispatched first.
    public var priority: Int
    public var state: DeliveryState
    /// The drone flying it; after it ends, the last drone that had it (nil once requeued).
    public var droneID: String?
    /// When it was posted, in milliseconds since 1970 (UTC) like all its times: the unit of the store and of the
    /// server clock. Only its JSON writes them as ISO-8601 times.
    public var createdAtMs: Int64
    /// When a drone took it (milliseconds since 1970, UTC).
    public var assignedAtMs: Int64?
    /// When the parcel went on board (milliseconds since 1970, UTC).
    public var pickedUpAtMs: Int64?
    /// When it was delivered (milliseconds since 1970, UTC).
    public var deliveredAtMs: Int64?
    /// When it was delivered, failed or cancelled (milliseconds since 1970, UTC).
    public var endedAtMs: Int64?
    /// Why it failed or was last requeued.
    public var reason: String?
    /// Bumped on every state change, for optimistic concurrency.
    public var version: Int

    public init(
        id: UUID,
        origin: Point,
        destination: Point,
        weightKg: Double,
        priority: Int = 0,
        state: DeliveryState = .pending,
        droneID: String? = nil,
        createdAtMs: Int64,
        assignedAtMs: Int64? = nil,
        pickedUpAtMs: Int64? = nil,
        deliveredAtMs: Int64? = nil,
        endedAtMs: Int64? = nil,
        reason: String? = nil,
        version: Int = 1
    ) {
        self.id = id
        self.origin = origin
        self.destination = destination
        self.weightKg = weightKg
        self.priority = priority
        self.state = state
        self.droneID = droneID
        self.createdAtMs = createdAtMs
        self.assignedAtMs = assignedAtMs
        self.pickedUpAtMs = pickedUpAtMs
        self.deliveredAtMs = deliveredAtMs
        self.endedAtMs = endedAtMs
        self.reason = reason
        self.version = version
    }

    /// `droneID` is written `droneId`, which the snake_case coding turns into `drone_id` and back. The times are
    /// written without their `Ms`: `created_at` and the rest stay the ISO-8601 times clients and stored events have.
    enum CodingKeys: String, CodingKey {
        case id, origin, destination, priority, state, reason, version, weightKg, createdAt, assignedAt, pickedUpAt, deliveredAt, endedAt
        case droneID = "droneId"
    }

    /// Writes the times as `Date`s, so that the coder's date format (ISO-8601 with milliseconds) applies as before.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(origin, forKey: .origin)
        try container.encode(destination, forKey: .destination)
        try container.encode(weightKg, forKey: .weightKg)
        try container.encode(priority, forKey: .priority)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(droneID, forKey: .droneID)
        try container.encode(Date(milliseconds: createdAtMs), forKey: .createdAt)
        try container.encodeIfPresent(assignedAtMs.map(Date.init(milliseconds:)), forKey: .assignedAt)
        try container.encodeIfPresent(pickedUpAtMs.map(Date.init(milliseconds:)), forKey: .pickedUpAt)
        try container.encodeIfPresent(deliveredAtMs.map(Date.init(milliseconds:)), forKey: .deliveredAt)
        try container.encodeIfPresent(endedAtMs.map(Date.init(milliseconds:)), forKey: .endedAt)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encode(version, forKey: .version)
    }

    /// Reads the times the coder decodes as `Date`s back into milliseconds.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        origin = try container.decode(Point.self, forKey: .origin)
        destination = try container.decode(Point.self, forKey: .destination)
        weightKg = try container.decode(Double.self, forKey: .weightKg)
        priority = try container.decode(Int.self, forKey: .priority)
        state = try container.decode(DeliveryState.self, forKey: .state)
        droneID = try container.decodeIfPresent(String.self, forKey: .droneID)
        createdAtMs = try container.decode(Date.self, forKey: .createdAt).milliseconds
        assignedAtMs = try container.decodeIfPresent(Date.self, forKey: .assignedAt)?.milliseconds
        pickedUpAtMs = try container.decodeIfPresent(Date.self, forKey: .pickedUpAt)?.milliseconds
        deliveredAtMs = try container.decodeIfPresent(Date.self, forKey: .deliveredAt)?.milliseconds
        endedAtMs = try container.decodeIfPresent(Date.self, forKey: .endedAt)?.milliseconds
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        version = try container.decode(Int.self, forKey: .version)
    }

    public static let priorities = 0...9

    /// A number as people write it: `2` rather than `2.0`, `0.25` as is.
    private static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private func refusal(_ action: String) -> FleetRuleViolation {
        FleetRuleViolation("delivery \(id.uuidString.lowercased()) is \(state.words) and cannot be \(action)")
    }

    /// pending → assigned to `droneID`.
    public mutating func assign(to droneID: String, nowMs: Int64) throws(FleetRuleViolation) {
        guard state == .pending else { throw refusal("assigned") }
        state = .assigned
        self.droneID = droneID
        assignedAtMs = nowMs
        version += 1
    }

    /// assigned → picked up: the parcel is on board.
    public mutating func pickUp(nowMs: Int64) throws(FleetRuleViolation) {
        guard state == .assigned else { throw refusal("picked up") }
        state = .pickedUp
        pickedUpAtMs = nowMs
        version += 1
    }

    /// picked up → delivered.
    public mutating func deliver(nowMs: Int64) throws(FleetRuleViolation) {
        guard state == .pickedUp else { throw refusal("delivered") }
        state = .delivered
        deliveredAtMs = nowMs
        endedAtMs = nowMs
        version += 1
    }

    /// Any non-final state → failed, for `reason`. Its drone, if still working, must be let go (``Drone/releaseDelivery()``).
    public mutating func fail(reason: String, nowMs: Int64) throws(FleetRuleViolation) {
        guard !state.isFinal else { throw refusal("failed") }
        state = .failed
        self.reason = reason
        endedAtMs = nowMs
        version += 1
    }

    /// pending or assigned → cancelled. A parcel already in flight cannot be called back by cancelling: it is
    /// delivered or fails. An assigned delivery's drone must then be let go (``Drone/releaseDelivery()``).
    public mutating func cancel(nowMs: Int64) throws(FleetRuleViolation) {
        guard state == .pending || state == .assigned else { throw refusal("cancelled") }
        state = .cancelled
        endedAtMs = nowMs
        version += 1
    }

    /// assigned or picked up → pending again, without a drone, remembering `reason`; the dispatcher will find it
    /// another drone. The drone it leaves, if still working, must be let go (``Drone/releaseDelivery()``).
    public mutating func requeue(reason: String) throws(FleetRuleViolation) {
        guard state == .assigned || state == .pickedUp else { throw refusal("requeued") }
        state = .pending
        droneID = nil
        assignedAtMs = nil
        pickedUpAtMs = nil
        self.reason = reason
        version += 1
    }

    /// What is wrong with a delivery request, as a sentence for the client, or nil when it can be accepted: a
    /// weight no drone lifts, a priority out of range, a point off the map, or a trip that no drone type able to
    /// lift it could fly on a full battery (from the hub nearest the origin, keeping the reserve for the hub
    /// nearest the destination), which would otherwise wait forever.
    public static func firstBrokenRule(origin: Point, destination: Point, weightKg: Double, priority: Int, map: FleetMap, rules: FleetRules) -> String? {
        guard weightKg.isFinite, weightKg > 0 else { return "weight_kg must be a positive number of kilograms" }
        let largest = rules.largestPayloadKg
        guard weightKg <= largest else {
            return "weight_kg is \(plain(weightKg)) kg; the largest drone carries at most \(plain(largest)) kg"
        }
        guard priorities.contains(priority) else { return "priority must be between \(priorities.lowerBound) and \(priorities.upperBound)" }
        for (name, point) in [("origin", origin), ("destination", destination)] {
            guard point.isFinite, map.bounds.contains(point) else {
                let bounds = map.bounds
                return
                    "\(name) must lie on the map: x from \(plain(bounds.minX)) to \(plain(bounds.maxX)) m, y from \(plain(bounds.minY)) to \(plain(bounds.maxY)) m"
            }
        }
        guard origin != destination else { return "origin and destination are the same point" }
        let fromHub = map.nearestChargingPoint(to: origin).map { $0.position.distance(to: origin) } ?? 0
        let trip = Energy.Trip(origin: origin, destination: destination, weightKg: weightKg, map: map)
        let flyable = rules.specifications.values.contains { specification in
            guard let tripPercent = trip.percent(for: specification, reservePercent: rules.reservePercent) else { return false }
            return specification.batteryPercent(forMetres: fromHub, payloadKg: 0) + tripPercent <= 100
        }
        guard flyable else {
            return "no drone able to lift \(plain(weightKg)) kg can fly this trip and still reach a charging point on a full battery"
        }
        return nil
    }
}

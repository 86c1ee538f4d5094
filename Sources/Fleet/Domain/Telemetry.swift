import Foundation

/// What a real drone (or a separate simulator) reports about itself.
public struct TelemetryReport: Sendable, Equatable {
    public var position: Point
    public var battery: Double
    /// The state it is now in; nil when only its position and battery changed.
    public var state: DroneState?

    public init(position: Point, battery: Double, state: DroneState? = nil) {
        self.position = position
        self.battery = battery
        self.state = state
    }
}

/// How a drone's report changes it and its delivery. A reporting drone is no longer simulated; its state changes
/// follow the same table as simulated ones, and each one that concerns its delivery moves the delivery too.
public enum Telemetry {
    /// Within this many metres of a point, a drone is at it (GPS is not exact).
    public static let arrivalRadius = 50.0

    /// Applies `report` to `drone` and, when it carries one, to its `delivery`. Refuses (and changes nothing) a
    /// report that makes no sense: a position that is not a number, a battery outside 0–100 %, a change of state
    /// the table does not allow, a pick-up or drop-off far from where it should be. A pick-up or delivery is stamped
    /// `nowMs` (milliseconds since 1970, UTC).
    public static func apply(_ report: TelemetryReport, to drone: inout Drone, delivery: inout Delivery?, nowMs: Int64) throws(FleetRuleViolation) {
        guard report.position.isFinite else { throw FleetRuleViolation("the position must be two numbers") }
        guard report.battery.isFinite, (0...100).contains(report.battery) else {
            throw FleetRuleViolation("the battery must be between 0 and 100 %, not \(report.battery)")
        }
        var updated = drone
        var carried = delivery
        if !updated.reportsTelemetry {
            // From now on the drone flies itself: a new version, so that no simulator write made before wins.
            updated.reportsTelemetry = true
            updated.version += 1
        }
        updated.position = report.position
        updated.battery = report.battery
        if let next = report.state, next != drone.state {
            switch (drone.state, next) {
            case (.assigned, .delivering):
                guard var parcel = carried else { throw FleetRuleViolation("drone \(drone.id) has no delivery to pick up") }
                let distance = report.position.distance(to: parcel.origin)
                guard distance <= arrivalRadius else {
                    throw FleetRuleViolation("drone \(drone.id) is \(Int(distance)) m from the pick-up point and cannot have picked up")
                }
                try parcel.pickUp(nowMs: nowMs)
                try updated.change(to: .delivering)
                updated.target = parcel.destination
                carried = parcel
            case (.delivering, .returning):
                guard var parcel = carried else { throw FleetRuleViolation("drone \(drone.id) carries no delivery") }
                let distance = report.position.distance(to: parcel.destination)
                guard distance <= arrivalRadius else {
                    throw FleetRuleViolation("drone \(drone.id) is \(Int(distance)) m from the destination and cannot have delivered")
                }
                try parcel.deliver(nowMs: nowMs)
                try updated.change(to: .returning)
                updated.deliveryID = nil
                updated.target = nil
                carried = parcel
            case (_, .offline):
                try updated.goOffline(carrying: &carried, reason: "drone \(drone.id) reported offline")
            case (.assigned, .idle):
                // Gave up before the pick-up: the delivery goes back to the backlog.
                try updated.change(to: next)
                if var parcel = carried, !parcel.state.isFinal {
                    try parcel.requeue(reason: "drone \(drone.id) gave it up before the pick-up")
                    carried = parcel
                }
                updated.deliveryID = nil
                updated.target = nil
            case (_, .assigned), (_, .delivering):
                throw FleetRuleViolation("only the dispatcher gives drone \(drone.id) a delivery, and only at the pick-up point is it delivering")
            default:
                try updated.change(to: next)
                if next == .idle || next == .charging || next == .inactive { updated.target = nil }
            }
        }
        drone = updated
        delivery = carried
    }
}

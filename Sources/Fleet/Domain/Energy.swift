import Foundation

/// Whether a drone can take a delivery now, and if so how soon it reaches the parcel.
public enum Feasibility: Sendable, Equatable {
    /// It can: it reaches the origin in `pickUpSeconds` and the whole trip (to the origin, to the destination and on
    /// to the charging point nearest the destination, plus the reserve) uses `batteryNeeded` percent.
    case feasible(pickUpSeconds: Double, batteryNeeded: Double)
    /// The parcel is heavier than its type lifts.
    case tooHeavy
    /// Its battery holds less than the `needed` percent.
    case notEnoughBattery(needed: Double)
    /// It is not idle, its battery reading is not a number, or its type has no specification.
    case unavailable

    public var isFeasible: Bool {
        if case .feasible = self { true } else { false }
    }
}

/// Whether `drone` can fly `delivery` now. Only an idle drone can; the parcel must not exceed its payload; and its
/// battery must cover flying empty to the origin, loaded to the destination, empty again to the charging point
/// nearest the destination (any point: pads free up by the time it lands), and still hold `rules.reservePercent`.
/// On a map without charging points the last leg is taken as zero.
public func feasibility(of drone: Drone, for delivery: Delivery, map: FleetMap, rules: FleetRules) -> Feasibility {
    guard drone.state == .idle, drone.battery.isFinite, let specification = rules.specifications[drone.type] else { return .unavailable }
    let trip = Energy.Trip(origin: delivery.origin, destination: delivery.destination, weightKg: delivery.weightKg, map: map)
    guard let tripPercent = trip.percent(for: specification, reservePercent: rules.reservePercent) else { return .tooHeavy }
    let pickUpMetres = drone.position.distance(to: delivery.origin)
    let needed = Energy.batteryNeeded(pickUpMetres: pickUpMetres, tripPercent: tripPercent, specification: specification)
    guard needed <= drone.battery else { return .notEnoughBattery(needed: needed) }
    return .feasible(pickUpSeconds: pickUpMetres / specification.cruiseSpeed, batteryNeeded: needed)
}

/// The energy arithmetic that feasibility, dispatch and validation share, written once so that they agree to the
/// last bit: the dispatcher must never pick a pair that ``feasibility(of:for:map:rules:)`` would refuse.
enum Energy {
    /// The part of a delivery's energy that does not depend on where the drone starts.
    struct Trip {
        /// Origin to destination, flown loaded.
        let loadedMetres: Double
        /// Destination to the nearest charging point, flown empty.
        let returnMetres: Double
        let weightKg: Double

        init(origin: Point, destination: Point, weightKg: Double, map: FleetMap) {
            loadedMetres = origin.distance(to: destination)
            returnMetres = map.nearestChargingPoint(to: destination).map { destination.distance(to: $0.position) } ?? 0
            self.weightKg = weightKg
        }

        /// Percent of a full battery for the loaded leg, the way back to a hub and the reserve; nil when the parcel is
        /// too heavy for this type.
        func percent(for specification: DroneSpecification, reservePercent: Double) -> Double? {
            guard weightKg <= specification.maxPayloadKg else { return nil }
            return specification.batteryPercent(forMetres: loadedMetres, payloadKg: weightKg)
                + specification.batteryPercent(forMetres: returnMetres, payloadKg: 0)
                + reservePercent
        }
    }

    @inline(__always)
    static func batteryNeeded(pickUpMetres: Double, tripPercent: Double, specification: DroneSpecification) -> Double {
        specification.batteryPercent(forMetres: pickUpMetres, payloadKg: 0) + tripPercent
    }
}

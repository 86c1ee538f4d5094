import Foundation

/// One change to the size of the active fleet.
public enum FleetSizingStep: Sendable, Equatable {
    /// Put this inactive drone into service.
    case activate(String)
    /// Send this idle drone to be parked.
    case retire(String)
}

/// What to do with a delivery that has made no progress for too long.
public enum StuckDelivery: Sendable, Equatable {
    /// Its drone never reached the parcel: give it to another drone.
    case requeue(UUID, reason: String)
    /// The parcel was picked up and never delivered: it cannot simply be handed to another drone.
    case fail(UUID, reason: String)
}

/// Keeps the active fleet in step with demand, and unblocks deliveries stuck on a drone.
public enum FleetSizing {
    /// The drones to activate or retire for the `pending` deliveries.
    ///
    /// Each pending delivery, heaviest first, is set against a ready idle drone that can lift it (idle with at least
    /// `rules.lowBatteryPercent`, since the others are about to go charging), the smallest type that can; a delivery
    /// no ready drone can lift activates an inactive drone that can, the smallest type first and the most charged
    /// first. So a backlog of heavy parcels wakes heavy drones even while light ones idle. (Heaviest first with the
    /// smallest capable type is exact here, because each type lifts everything a smaller one does.) When nothing is
    /// pending and more than `rules.spareIdleDrones` drones are idle, the surplus retires, the least charged first.
    /// Ties go by id so the plan is the same on every node.
    public static func plan(drones: [Drone], pending: [Delivery], rules: FleetRules) -> [FleetSizingStep] {
        let types = DroneType.allCases.compactMap { type in rules.specifications[type].map { (type, $0.maxPayloadKg) } }
            .sorted { $0.1 < $1.1 }
        var ready: [DroneType: Int] = [:]
        var inactive: [DroneType: [Drone]] = [:]
        for drone in drones {
            if drone.state == .idle, drone.battery >= rules.lowBatteryPercent { ready[drone.type, default: 0] += 1 }
            if drone.state == .inactive, drone.battery.isFinite { inactive[drone.type, default: []].append(drone) }
        }
        for type in inactive.keys {
            inactive[type]!.sort { $0.battery != $1.battery ? $0.battery > $1.battery : $0.id < $1.id }
        }
        var steps: [FleetSizingStep] = []
        var taken: [DroneType: Int] = [:]
        for delivery in pending.sorted(by: { $0.weightKg != $1.weightKg ? $0.weightKg > $1.weightKg : $0.id.uuidString < $1.id.uuidString }) {
            let capable = types.filter { $0.1 >= delivery.weightKg }.map(\.0)
            if let type = capable.first(where: { ready[$0, default: 0] > 0 }) {
                ready[type]! -= 1
            } else if let type = capable.first(where: { taken[$0, default: 0] < inactive[$0, default: []].count }) {
                steps.append(.activate(inactive[type]![taken[type, default: 0]].id))
                taken[type, default: 0] += 1
            }
        }
        guard pending.isEmpty else { return steps }
        let idle = drones.filter { $0.state == .idle }
        guard idle.count > rules.spareIdleDrones else { return [] }
        // A battery reading that is not a number sorts first: such a drone is the last one worth keeping.
        let leastChargedFirst = idle.sorted { left, right in
            let a = left.battery.isNaN ? -Double.infinity : left.battery
            let b = right.battery.isNaN ? -Double.infinity : right.battery
            return a != b ? a < b : left.id < right.id
        }
        return leastChargedFirst.prefix(idle.count - max(rules.spareIdleDrones, 0)).map { .retire($0.id) }
    }

    /// Idle drones to send charging so that deliveries left waiting get flown: a delivery no idle drone can fly,
    /// although some idle drone could lift it, is waiting for a fuller battery — which an idle drone above
    /// `rules.lowBatteryPercent` would never get. For each such delivery the nearest idle drone that lifts it and is
    /// not full goes to charge (one per delivery, each drone once). `unassigned` are the pending deliveries the
    /// dispatcher could not place this tick.
    public static func topUps(unassigned: [Delivery], drones: [Drone], map: FleetMap, rules: FleetRules) -> [String] {
        let idle = drones.filter { $0.state == .idle && $0.battery.isFinite }
        var chosen: Set<String> = []
        var order: [String] = []
        for delivery in unassigned.sorted(by: { $0.createdAtMs != $1.createdAtMs ? $0.createdAtMs < $1.createdAtMs : $0.id.uuidString < $1.id.uuidString }) {
            let verdicts = idle.map { ($0, feasibility(of: $0, for: delivery, map: map, rules: rules)) }
            // Someone can already fly it (it only lost out to other deliveries), or nobody could even when full.
            guard !verdicts.contains(where: { $0.1.isFeasible }) else { continue }
            let candidates = verdicts.filter { drone, verdict in
                guard case .notEnoughBattery(let needed) = verdict else { return false }
                return needed <= 100 && drone.battery < 100 && !chosen.contains(drone.id)
            }.map(\.0)
            guard
                let nearest = candidates.min(by: { left, right in
                    let a = left.position.distance(to: delivery.origin)
                    let b = right.position.distance(to: delivery.origin)
                    return a != b ? a < b : left.id < right.id
                })
            else { continue }
            chosen.insert(nearest.id)
            order.append(nearest.id)
        }
        return order
    }

    /// Deliveries stuck on a drone for more than `rules.stuckAfterSeconds`: assigned and never picked up (requeue),
    /// or picked up and never delivered (fail), at `nowMs` (milliseconds since 1970, UTC). Timestamps that are missing
    /// count from the previous step.
    public static func reconcile(deliveries: [Delivery], nowMs: Int64, rules: FleetRules) -> [StuckDelivery] {
        let limit = duration(rules.stuckAfterSeconds)
        return deliveries.compactMap { delivery in
            switch delivery.state {
            case .assigned:
                let since = delivery.assignedAtMs ?? delivery.createdAtMs
                guard Double(nowMs - since) / 1000 > rules.stuckAfterSeconds else { return nil }
                return .requeue(delivery.id, reason: "no pick-up within \(limit)")
            case .pickedUp:
                let since = delivery.pickedUpAtMs ?? delivery.assignedAtMs ?? delivery.createdAtMs
                guard Double(nowMs - since) / 1000 > rules.stuckAfterSeconds else { return nil }
                return .fail(delivery.id, reason: "not delivered within \(limit) of pick-up")
            case .pending, .delivered, .failed, .cancelled:
                return nil
            }
        }
    }

    /// "30 minutes", "1 minute", or "90 seconds" when it is not a whole number of minutes ("ever" when unlimited,
    /// which nothing ever exceeds).
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "ever" }
        let minutes = seconds / 60
        if minutes == minutes.rounded(), minutes >= 1, minutes < 1e9 {
            return minutes == 1 ? "1 minute" : "\(Int(minutes)) minutes"
        }
        return "\(Int(seconds.rounded())) seconds"
    }
}

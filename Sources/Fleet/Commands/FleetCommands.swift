import Foundation
import TurnoCore

/// Changes staff and drones make to the fleet. Deliveries and drones carry versions: each command reads, applies the
/// domain's rule, and writes only if nobody (the dispatcher, another node) changed them meanwhile — else it reads
/// again, up to five times. The store writes the rows and their events in one transaction.
struct FleetCommands: Sendable {
    let store: FleetStore

    /// Posts a delivery (or, with an Idempotency-Key seen before, answers the one it made then).
    func post(_ delivery: Delivery, organizationID: Int64, idempotencyKey: IdempotencyKey?) async throws -> (delivery: Delivery, isNew: Bool) {
        let (stored, isNew) = try await store.create(delivery, organizationID: organizationID, idempotencyKey: idempotencyKey)
        return (stored, isNew)
    }

    /// Cancels a delivery at `nowMs` (milliseconds since 1970, UTC) and frees the drone that carried it.
    func cancel(deliveryID: UUID, organizationID: Int64, nowMs: Int64) async throws -> Delivery {
        try await retryingConflicts(while: "the delivery kept changing while being cancelled") { () async throws -> Delivery? in
            guard let current = try await store.delivery(deliveryID, of: organizationID) else {
                throw FleetNotFound("there is no delivery \(deliveryID.uuidString.lowercased())")
            }
            var cancelled = current
            try cancelled.cancel(nowMs: nowMs)
            var change = FleetStore.Change(deliveries: [(cancelled, current.version, .cancelled)])
            if let droneID = current.droneID, var drone = try await store.drone(droneID, of: organizationID), drone.deliveryID == current.id {
                let readVersion = drone.version
                try drone.releaseDelivery()
                change.drones.append((drone, readVersion, .changed))
            }
            return try await store.apply(change, organizationID: organizationID) ? cancelled : nil
        }
    }

    /// Registers a drone.
    func register(_ drone: Drone, organizationID: Int64) async throws -> Drone {
        try await store.register(drone, organizationID: organizationID)
    }

    /// Reads a drone and its delivery, applies `change`, and writes both if nobody changed them meanwhile.
    func changeDrone(
        _ droneID: String,
        organizationID: Int64,
        _ change: (inout Drone, inout Delivery?) throws(FleetRuleViolation) -> Void
    ) async throws -> Drone {
        try await retryingConflicts(while: "the drone kept changing while being updated") { () async throws -> Drone? in
            guard let current = try await store.drone(droneID, of: organizationID) else { throw FleetNotFound("there is no drone \(droneID)") }
            var carried: Delivery?
            if let id = current.deliveryID { carried = try await store.delivery(id, of: organizationID) }
            var drone = current
            var delivery = carried
            try change(&drone, &delivery)
            var write = FleetStore.Change(drones: [(drone, current.version, drone.version != current.version ? .changed : nil)])
            if let delivery, let carried, delivery.version != carried.version {
                write.deliveries.append((delivery, carried.version, FleetStore.DeliveryEvent(for: delivery.state)))
            }
            return try await store.apply(write, organizationID: organizationID) ? drone : nil
        }
    }

    /// Runs a read–change–write `attempt` again while another writer changed what it read first (it answers nil);
    /// after five conflicts in a row the caller is asked to try again later.
    private func retryingConflicts<T>(while doing: String, _ attempt: () async throws -> T?) async throws -> T {
        for _ in 0..<5 {
            if let done = try await attempt() { return done }
        }
        throw Problem(.serviceUnavailable, detail: "\(doing); try again")
    }
}

/// A delivery or drone that is not there (or not the caller organization's).
struct FleetNotFound: RuleViolation {
    let detail: String
    var kind: RuleViolationKind { .notFound }

    init(_ detail: String) {
        self.detail = detail
    }
}

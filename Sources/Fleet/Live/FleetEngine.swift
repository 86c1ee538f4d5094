import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TurnoCore

/// How the fleet runs on this server.
public struct FleetSettings: Sendable {
    /// Time between ticks of the dispatcher (and the simulator).
    public var tick: Duration
    /// Simulated drones the leading node keeps in the first organization's fleet (0: none are added).
    public var simulatedDrones: Int
    /// Simulated seconds per real second: 60 makes a ten-minute delivery take ten seconds.
    public var simulationSpeed: Double
    /// Whether drones that report no telemetry move by simulation (the default: telemetry replaces the simulation
    /// drone by drone); without it they wait for telemetry.
    public var simulates: Bool
    public var rules: FleetRules

    public init(tick: Duration = .seconds(1), simulatedDrones: Int = 0, simulationSpeed: Double = 1, simulates: Bool? = nil, rules: FleetRules = .standard) {
        self.tick = tick
        self.simulatedDrones = simulatedDrones
        self.simulationSpeed = simulationSpeed
        self.simulates = simulates ?? true
        self.rules = rules
    }
}

/// The fleet's heartbeat, on the one node that leads (see `Leadership`): every tick it moves the simulated drones,
/// reconciles stuck deliveries, sizes the fleet and assigns pending deliveries to drones; a new delivery wakes it at
/// once. Every change goes through the store, conditional on the versions it read, so a node that lost the lead
/// without knowing it can never double-assign.
public final class FleetEngine: Service, EventConsumer {
    let store: FleetStore
    let settings: FleetSettings
    let leadership: Leadership
    let logger: Logger
    /// The time changes are stamped with; ticks themselves are paced in real time.
    let clock: any ServerClock
    private let wake = Atomic<Bool>(false)
    private let tickTimer = Metrics.Timer(label: "turno_fleet_tick_seconds")
    private let dispatchTimer = Metrics.Timer(label: "turno_fleet_dispatch_seconds")

    /// Advisory lock key of the fleet's leader ("turno", 3).
    static let lockKey: Int64 = 0x7475_726E_6F00_0003

    public init(store: FleetStore, storage: Storage, settings: FleetSettings, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
        clock = storage.clock
        leadership = Leadership(storage: storage, key: Self.lockKey, logger: logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.leadership.run { await self.lead() }
        }
    }

    /// A delivery posted on any node wakes the leader's dispatcher at once.
    public func consume(_ events: [StoredEvent]) async {
        if events.contains(where: { $0.type == "delivery.created" || $0.type == "drone.registered" }) {
            wake.store(true, ordering: .relaxed)
        }
    }

    func lead() async {
        if settings.simulatedDrones > 0 {
            do {
                try await store.ensureSimulatedDrones(settings.simulatedDrones)
            } catch {
                logger.error("cannot add the simulated drones", metadata: ["error": "\(loggable(error))"])
            }
        }
        var last = ContinuousClock.now
        while !Task.isCancelled {
            // Sleeps in short steps so that a new delivery is dispatched within one step, not one tick.
            let due = last + settings.tick
            while ContinuousClock.now < due, !wake.exchange(false, ordering: .relaxed), !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            let now = ContinuousClock.now
            let seconds = (now - last) / .seconds(1)
            last = now
            do {
                for organizationID in try await store.organizationsWithDrones() {
                    // One organization's failure does not hold up the others.
                    do {
                        try await tick(organizationID, seconds: seconds)
                    } catch {
                        if !Task.isCancelled {
                            logger.warning(
                                "fleet tick failed; trying again next tick",
                                metadata: ["organization": "\(organizationID)", "error": "\(loggable(error))"]
                            )
                        }
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("cannot list the fleets; trying again next tick", metadata: ["error": "\(loggable(error))"]) }
            }
            tickTimer.record(duration: ContinuousClock.now - now)
        }
    }

    /// One tick for one organization: `seconds` of real time have passed since the last.
    func tick(_ organizationID: Int64, seconds: Double) async throws {
        let map = try await store.map(of: organizationID)
        let rules = settings.rules
        var world = FleetWorld(
            drones: try await store.drones(of: organizationID),
            deliveries: Dictionary(uniqueKeysWithValues: try await store.openDeliveries(of: organizationID).map { ($0.id, $0) })
        )
        // Read after the deliveries, so that none was created after the time its changes are stamped with.
        let nowMs = clock.nowMilliseconds()
        if settings.simulates {
            let before = world
            for change in Simulation.tick(&world, seconds: seconds * settings.simulationSpeed, nowMs: nowMs, map: map, rules: rules) {
                if case .droneOffline(let id, let reason) = change {
                    logger.warning("drone went offline", metadata: ["organization": "\(organizationID)", "drone": "\(id)", "reason": "\(reason)"])
                }
            }
            try await save(world, changedFrom: before, organizationID: organizationID)
        }

        let reconciled = world
        // The domain proposes only allowed changes; one it refuses is logged and skipped, never the whole tick.
        for stuck in FleetSizing.reconcile(deliveries: Array(world.deliveries.values), nowMs: nowMs, rules: rules) {
            do {
                switch stuck {
                case .requeue(let id, let reason): try world.requeue(id, reason: reason)
                case .fail(let id, let reason): try world.fail(id, reason: reason, nowMs: nowMs)
                }
            } catch {
                logger.warning("cannot reconcile a stuck delivery", metadata: ["error": "\(error.detail)"])
            }
        }
        let backlog = world.deliveries.values.filter { $0.state == .pending }
        // Real drones are flown by their operators: only simulated ones are activated and retired automatically, and
        // only when the simulator runs (it is what flies a retiring drone to its hub).
        let sized = settings.simulates ? world.drones.filter { !$0.reportsTelemetry } : []
        for step in FleetSizing.plan(drones: sized, pending: backlog, rules: rules) {
            do {
                switch step {
                case .activate(let id): try world.changeDrone(id) { drone throws(FleetRuleViolation) in try drone.activate() }
                case .retire(let id): try world.changeDrone(id) { drone throws(FleetRuleViolation) in try drone.retire() }
                }
            } catch {
                logger.warning("cannot size the fleet", metadata: ["error": "\(error.detail)"])
            }
        }
        try await save(world, changedFrom: reconciled, organizationID: organizationID)

        let started = ContinuousClock.now
        let pending = world.deliveries.values.filter { $0.state == .pending }
        let assignments = Dispatch.optimal(pending: Array(pending), drones: world.drones, map: map, rules: rules)
        dispatchTimer.record(duration: ContinuousClock.now - started)
        var drones = Dictionary(uniqueKeysWithValues: world.drones.map { ($0.id, $0) })
        if settings.simulates {
            // Deliveries that wait for a fuller battery send a drone to charge (the simulator flies it there).
            let placed = Set(assignments.map(\.deliveryID))
            let assignedDrones = Set(assignments.map(\.droneID))
            let waiting = pending.filter { !placed.contains($0.id) }
            let free = world.drones.filter { !$0.reportsTelemetry && !assignedDrones.contains($0.id) }
            for id in FleetSizing.topUps(unassigned: Array(waiting), drones: free, map: map, rules: rules) {
                guard var drone = drones[id] else { continue }
                let readVersion = drone.version
                try drone.change(to: .returning)
                drones[id] = drone
                try await store.apply(FleetStore.Change(drones: [(drone, readVersion, .changed)]), organizationID: organizationID)
            }
        }
        for assignment in assignments {
            guard var drone = drones[assignment.droneID], var delivery = world.deliveries[assignment.deliveryID] else { continue }
            let (droneVersion, deliveryVersion) = (drone.version, delivery.version)
            try drone.take(&delivery, nowMs: nowMs)
            // A conflict means another writer got there first; the next tick sees the new state.
            try await store.apply(
                FleetStore.Change(
                    drones: [(drone, droneVersion, .changed)],
                    deliveries: [(delivery, deliveryVersion, .assigned)]
                ),
                organizationID: organizationID
            )
        }
    }

    /// Writes what changed between two states of the world: moves in batches, each drone's change of state together
    /// with its deliveries'.
    func save(_ world: FleetWorld, changedFrom before: FleetWorld, organizationID: Int64) async throws {
        let previous = Dictionary(uniqueKeysWithValues: before.drones.map { ($0.id, $0) })
        var moved: [Drone] = []
        var savedDeliveries: Set<UUID> = []
        for drone in world.drones {
            guard let old = previous[drone.id] else { continue }
            if drone.version == old.version {
                if drone.position != old.position || drone.battery != old.battery { moved.append(drone) }
                continue
            }
            var change = FleetStore.Change(drones: [(drone, old.version, .changed)])
            for id in Set([old.deliveryID, drone.deliveryID].compactMap { $0 }) {
                guard let delivery = world.deliveries[id], let was = before.deliveries[id], delivery.version != was.version else { continue }
                change.deliveries.append((delivery, was.version, FleetStore.DeliveryEvent(for: delivery.state)))
                savedDeliveries.insert(id)
            }
            try await store.apply(change, organizationID: organizationID)
        }
        for (id, delivery) in world.deliveries where !savedDeliveries.contains(id) {
            guard let was = before.deliveries[id], delivery.version != was.version else { continue }
            try await store.apply(
                FleetStore.Change(deliveries: [(delivery, was.version, FleetStore.DeliveryEvent(for: delivery.state))]),
                organizationID: organizationID
            )
        }
        try await store.savePositions(moved, organizationID: organizationID, timeMs: clock.nowMilliseconds())
    }
}

extension FleetStore.DeliveryEvent {
    /// The event that says a delivery reached `state`.
    init(for state: DeliveryState) {
        self =
            switch state {
            case .pending: .requeued
            case .assigned: .assigned
            case .pickedUp: .pickedUp
            case .delivered: .delivered
            case .failed: .failed
            case .cancelled: .cancelled
            }
    }
}

extension FleetWorld {
    /// Puts a delivery back in the backlog, releasing its drone.
    mutating func requeue(_ id: UUID, reason: String) throws(FleetRuleViolation) {
        guard var delivery = deliveries[id] else { return }
        try delivery.requeue(reason: reason)
        try releaseDrone(carrying: id)
        deliveries[id] = delivery
    }

    /// Gives up on a delivery, releasing its drone.
    mutating func fail(_ id: UUID, reason: String, nowMs: Int64) throws(FleetRuleViolation) {
        guard var delivery = deliveries[id] else { return }
        try delivery.fail(reason: reason, nowMs: nowMs)
        try releaseDrone(carrying: id)
        deliveries[id] = delivery
    }

    /// The drone flying for a delivery, if any, lets go of it.
    mutating func releaseDrone(carrying deliveryID: UUID) throws(FleetRuleViolation) {
        guard let index = drones.firstIndex(where: { $0.deliveryID == deliveryID }) else { return }
        try drones[index].releaseDelivery()
    }

    mutating func changeDrone(_ id: String, _ change: (inout Drone) throws(FleetRuleViolation) -> Void) throws(FleetRuleViolation) {
        guard let index = drones.firstIndex(where: { $0.id == id }) else { return }
        try change(&drones[index])
    }
}

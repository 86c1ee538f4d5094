import Foundation
import SQLKit
import TurnoCore

/// Reads and writes the fleet's map, drones and deliveries. Every change of state is one transaction that is
/// conditional on the versions it read and appends its events, so two dispatchers (two nodes) can never give one
/// drone two deliveries or one delivery two drones.
public struct FleetStore: Sendable {
    let storage: Storage

    public init(storage: Storage) {
        self.storage = storage
    }

    // MARK: The map

    /// The organization's map; the standard city the first time it is asked for.
    func map(of organizationID: Int64) async throws -> FleetMap {
        let existing = try await readMap(organizationID)
        if !existing.zones.isEmpty { return existing }
        let standard = FleetMap.standard
        try await storage.write { transaction in
            let sql = transaction.sql
            let upsert = transaction.kind == .postgres ? " ON CONFLICT DO NOTHING" : ""
            let insert = transaction.kind == .postgres ? "INSERT INTO" : "INSERT OR IGNORE INTO"
            for zone in standard.zones {
                try await sql.raw(
                    """
                    \(unsafeRaw: insert) fleet_zones (organization_id, id, name, min_x, min_y, max_x, max_y)
                    VALUES (\(bind: organizationID), \(bind: zone.id), \(bind: zone.name), \(bind: zone.bounds.minX), \(bind: zone.bounds.minY),
                            \(bind: zone.bounds.maxX), \(bind: zone.bounds.maxY))\(unsafeRaw: upsert)
                    """
                ).run()
            }
            for point in standard.chargingPoints {
                try await sql.raw(
                    """
                    \(unsafeRaw: insert) fleet_charging_points (organization_id, id, name, x, y, pads)
                    VALUES (\(bind: organizationID), \(bind: point.id), \(bind: point.name), \(bind: point.position.x), \(bind: point.position.y),
                            \(bind: point.pads))\(unsafeRaw: upsert)
                    """
                ).run()
            }
        }
        return try await readMap(organizationID)
    }

    private func readMap(_ organizationID: Int64) async throws -> FleetMap {
        try await storage.read { sql in
            let zones = try await sql.raw(
                """
                SELECT id, name, min_x, min_y, max_x, max_y FROM fleet_zones WHERE organization_id = \(bind: organizationID) ORDER BY id
                """
            ).all().map { row in
                Zone(
                    id: try row.decode(column: "id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    bounds: Bounds(
                        minX: try row.decode(column: "min_x", as: Double.self),
                        minY: try row.decode(column: "min_y", as: Double.self),
                        maxX: try row.decode(column: "max_x", as: Double.self),
                        maxY: try row.decode(column: "max_y", as: Double.self)
                    )
                )
            }
            let points = try await sql.raw(
                """
                SELECT id, name, x, y, pads FROM fleet_charging_points WHERE organization_id = \(bind: organizationID) ORDER BY id
                """
            ).all().map { row in
                ChargingPoint(
                    id: try row.decode(column: "id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    position: Point(x: try row.decode(column: "x", as: Double.self), y: try row.decode(column: "y", as: Double.self)),
                    pads: try row.decode(column: "pads", as: Int.self)
                )
            }
            // The map's bounds are those of its zones together.
            let bounds =
                zones.isEmpty
                ? FleetMap.standard.bounds
                : Bounds(
                    minX: zones.map(\.bounds.minX).min()!,
                    minY: zones.map(\.bounds.minY).min()!,
                    maxX: zones.map(\.bounds.maxX).max()!,
                    maxY: zones.map(\.bounds.maxY).max()!
                )
            return FleetMap(bounds: bounds, zones: zones, chargingPoints: points)
        }
    }

    /// Organizations with drones: those the dispatcher and the simulator look after.
    func organizationsWithDrones() async throws -> [Int64] {
        try await storage.read { sql in
            try await sql.raw("SELECT DISTINCT organization_id FROM drones").all().map { try $0.decode(column: "organization_id", as: Int64.self) }
        }
    }

    // MARK: Drones

    static let droneColumns = "id, type, state, x, y, battery, delivery_id, target_x, target_y, charging_point_id, reports_telemetry, version"

    /// A stored name that is no longer one of the type's cases is a damaged row: it is refused, never guessed.
    static func decodeEnum<T: RawRepresentable>(_ type: T.Type, _ row: any SQLRow, _ column: String) throws -> T where T.RawValue == String {
        let text = try row.decode(column: column, as: String.self)
        guard let value = T(rawValue: text) else { throw DatabaseUnavailable("the fleet's \(column) `\(text)` is not one Turno knows") }
        return value
    }

    static func decodeUUID(_ row: any SQLRow, _ column: String) throws -> UUID {
        let text = try row.decode(column: column, as: String.self)
        guard let id = UUID(uuidString: text) else { throw DatabaseUnavailable("the fleet's stored id `\(text)` is not a UUID") }
        return id
    }

    static func drone(_ row: any SQLRow) throws -> Drone {
        let targetX = try row.decodeNil(column: "target_x") ? nil : try row.decode(column: "target_x", as: Double.self)
        let targetY = try row.decodeNil(column: "target_y") ? nil : try row.decode(column: "target_y", as: Double.self)
        return Drone(
            id: try row.decode(column: "id", as: String.self),
            type: try decodeEnum(DroneType.self, row, "type"),
            position: Point(x: try row.decode(column: "x", as: Double.self), y: try row.decode(column: "y", as: Double.self)),
            battery: try row.decode(column: "battery", as: Double.self),
            state: try decodeEnum(DroneState.self, row, "state"),
            deliveryID: try row.decode(column: "delivery_id", as: String?.self).flatMap(UUID.init(uuidString:)),
            target: targetX.flatMap { x in targetY.map { Point(x: x, y: $0) } },
            chargingPointID: try row.decode(column: "charging_point_id", as: String?.self),
            reportsTelemetry: try row.decode(column: "reports_telemetry", as: Int.self) != 0,
            version: try row.decode(column: "version", as: Int.self)
        )
    }

    func drones(of organizationID: Int64, state: DroneState? = nil) async throws -> [Drone] {
        try await storage.read { sql in
            var query: SQLQueryString = "SELECT \(unsafeRaw: Self.droneColumns) FROM drones WHERE organization_id = \(bind: organizationID)"
            if let state { query += " AND state = \(bind: state.rawValue)" }
            query += " ORDER BY id"
            return try await sql.raw(query).all().map(Self.drone)
        }
    }

    func drone(_ id: String, of organizationID: Int64) async throws -> Drone? {
        try await storage.read { sql in
            try await Self.drone(id, of: organizationID, in: sql)
        }
    }

    static func drone(_ id: String, of organizationID: Int64, in sql: any SQLDatabase) async throws -> Drone? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: droneColumns) FROM drones WHERE organization_id = \(bind: organizationID) AND id = \(bind: id)
            """
        ).first().map(drone)
    }

    /// Drones whose position or state changed after `sinceMs`, for the map's position pushes.
    func dronesMoved(of organizationID: Int64, sinceMs: Int64) async throws -> [Drone] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.droneColumns) FROM drones WHERE organization_id = \(bind: organizationID) AND updated_at_ms > \(bind: sinceMs)
                """
            ).all().map(Self.drone)
        }
    }

    /// Adds a drone; a drone of that id already there is a conflict.
    func register(_ drone: Drone, organizationID: Int64) async throws -> Drone {
        try await storage.write { transaction in
            // Two registrations of one id at once: the second inserts nothing and is told so.
            let inserted = try await transaction.sql.raw(
                """
                INSERT INTO drones (organization_id, id, type, state, x, y, battery, delivery_id, target_x, target_y, charging_point_id,
                                    reports_telemetry, version, updated_at_ms)
                VALUES (\(bind: organizationID), \(bind: drone.id), \(bind: drone.type.rawValue), \(bind: drone.state.rawValue),
                        \(bind: drone.position.x), \(bind: drone.position.y), \(bind: drone.battery), NULL, NULL, NULL, NULL,
                        \(bind: drone.reportsTelemetry ? 1 : 0), \(bind: drone.version), \(bind: transaction.timeMs))
                ON CONFLICT DO NOTHING RETURNING id
                """
            ).first()
            guard inserted != nil else { throw FleetRuleViolation("there is already a drone \(drone.id)") }
            try await Self.append(.droneRegistered, drone, organizationID: organizationID, in: transaction)
            return drone
        }
    }

    /// Makes sure the first organization has `count` simulated drones, `sim-00001` …: mostly light, spread evenly
    /// over its map, charged and idle. Drones already there are left as they are.
    func ensureSimulatedDrones(_ count: Int) async throws {
        guard
            let organizationID = try await storage.read({ sql in
                try await sql.raw("SELECT MIN(id) AS id FROM organizations").first()?.decode(column: "id", as: Int64?.self)
            })
        else { return }
        let map = try await map(of: organizationID)
        let existing = Set(try await drones(of: organizationID).map(\.id))
        let missing = (1...max(count, 1)).filter { count > 0 && !existing.contains(String(format: "sim-%05d", $0)) }
        for chunk in stride(from: 0, to: missing.count, by: 1_000).map({ missing[$0..<min($0 + 1_000, missing.count)] }) {
            try await storage.write { transaction in
                for number in chunk {
                    // Halton points (bases 2 and 3): spread evenly, the same on every run.
                    func halton(_ index: Int, _ base: Int) -> Double {
                        var (result, fraction, index) = (0.0, 1.0 / Double(base), index)
                        while index > 0 {
                            result += Double(index % base) * fraction
                            index /= base
                            fraction /= Double(base)
                        }
                        return result
                    }
                    let bounds = map.bounds
                    let position = Point(x: bounds.minX + halton(number, 2) * bounds.width, y: bounds.minY + halton(number, 3) * bounds.height)
                    let type: DroneType = number % 10 == 0 ? .heavy : (number % 10 < 4 ? .medium : .light)
                    let drone = Drone(id: String(format: "sim-%05d", number), type: type, position: position, battery: 100, state: .idle)
                    try await transaction.sql.raw(
                        """
                        INSERT INTO drones (organization_id, id, type, state, x, y, battery, reports_telemetry, version, updated_at_ms)
                        VALUES (\(bind: organizationID), \(bind: drone.id), \(bind: drone.type.rawValue), \(bind: drone.state.rawValue),
                                \(bind: drone.position.x), \(bind: drone.position.y), \(bind: drone.battery), 0, \(bind: drone.version),
                                \(bind: transaction.timeMs))
                        """
                    ).run()
                    try await Self.append(.droneRegistered, drone, organizationID: organizationID, in: transaction)
                }
            }
        }
    }

    /// Writes a drone's new state if nobody changed it since it was read (its version then was `readVersion`).
    /// False when somebody did: the caller reads it again.
    static func save(_ drone: Drone, readVersion: Int, organizationID: Int64, in transaction: Transaction) async throws -> Bool {
        let row = try await transaction.sql.raw(
            """
            UPDATE drones SET type = \(bind: drone.type.rawValue), state = \(bind: drone.state.rawValue), x = \(bind: drone.position.x),
                y = \(bind: drone.position.y), battery = \(bind: drone.battery), delivery_id = \(bind: drone.deliveryID?.uuidString),
                target_x = \(bind: drone.target?.x), target_y = \(bind: drone.target?.y), charging_point_id = \(bind: drone.chargingPointID),
                reports_telemetry = \(bind: drone.reportsTelemetry ? 1 : 0), version = \(bind: drone.version), updated_at_ms = \(bind: transaction.timeMs)
            WHERE organization_id = \(bind: organizationID) AND id = \(bind: drone.id) AND version = \(bind: readVersion)
            RETURNING version
            """
        ).first()
        return row != nil
    }

    /// Positions and batteries of moving drones, in batches; no events (the map's pushes read them back), and no
    /// version check: the simulator alone moves simulated drones.
    func savePositions(_ drones: [Drone], organizationID: Int64, timeMs: Int64) async throws {
        guard !drones.isEmpty else { return }
        try await storage.write { transaction in
            for chunk in stride(from: 0, to: drones.count, by: 500).map({ drones[$0..<min($0 + 500, drones.count)] }) {
                var values: [SQLQueryString] = []
                for drone in chunk {
                    values.append("(\(bind: drone.id), \(bind: drone.position.x), \(bind: drone.position.y), \(bind: drone.battery))")
                }
                var query: SQLQueryString = """
                    UPDATE drones SET x = moved.column2, y = moved.column3, battery = moved.column4, updated_at_ms = \(bind: timeMs)
                    FROM (VALUES
                    """
                for (index, value) in values.enumerated() {
                    if index > 0 { query += ", " }
                    query += value
                }
                // A drone that started reporting its own position meanwhile is no longer the simulator's to move.
                query += ") AS moved WHERE drones.organization_id = \(bind: organizationID) AND drones.id = moved.column1 AND drones.reports_telemetry = 0"
                try await transaction.sql.raw(query).run()
            }
        }
    }

    // MARK: Deliveries

    static let deliveryColumns = """
        id, state, origin_x, origin_y, destination_x, destination_y, weight_kg, priority, drone_id, created_at_ms, assigned_at_ms,
        picked_up_at_ms, delivered_at_ms, ended_at_ms, reason, version
        """

    static func delivery(_ row: any SQLRow) throws -> Delivery {
        Delivery(
            id: try decodeUUID(row, "id"),
            origin: Point(x: try row.decode(column: "origin_x", as: Double.self), y: try row.decode(column: "origin_y", as: Double.self)),
            destination: Point(x: try row.decode(column: "destination_x", as: Double.self), y: try row.decode(column: "destination_y", as: Double.self)),
            weightKg: try row.decode(column: "weight_kg", as: Double.self),
            priority: try row.decode(column: "priority", as: Int.self),
            state: try decodeEnum(DeliveryState.self, row, "state"),
            droneID: try row.decode(column: "drone_id", as: String?.self),
            createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self),
            assignedAtMs: try row.decode(column: "assigned_at_ms", as: Int64?.self),
            pickedUpAtMs: try row.decode(column: "picked_up_at_ms", as: Int64?.self),
            deliveredAtMs: try row.decode(column: "delivered_at_ms", as: Int64?.self),
            endedAtMs: try row.decode(column: "ended_at_ms", as: Int64?.self),
            reason: try row.decode(column: "reason", as: String?.self),
            version: try row.decode(column: "version", as: Int.self)
        )
    }

    func delivery(_ id: UUID, of organizationID: Int64) async throws -> Delivery? {
        try await storage.read { sql in try await Self.delivery(id, of: organizationID, in: sql) }
    }

    static func delivery(_ id: UUID, of organizationID: Int64, in sql: any SQLDatabase) async throws -> Delivery? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: deliveryColumns) FROM deliveries WHERE id = \(bind: id.uuidString) AND organization_id = \(bind: organizationID)
            """
        ).first().map(delivery)
    }

    /// Newest first.
    func deliveries(of organizationID: Int64, states: [DeliveryState]?, limit: Int) async throws -> [Delivery] {
        try await storage.read { sql in
            var query: SQLQueryString = "SELECT \(unsafeRaw: Self.deliveryColumns) FROM deliveries WHERE organization_id = \(bind: organizationID)"
            if let states, !states.isEmpty {
                query += " AND state IN (\(unsafeRaw: states.map { "'\($0.rawValue)'" }.joined(separator: ", ")))"
            }
            query += " ORDER BY created_at_ms DESC, id LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map(Self.delivery)
        }
    }

    /// The deliveries not yet delivered, failed or cancelled, oldest first.
    func openDeliveries(of organizationID: Int64) async throws -> [Delivery] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.deliveryColumns) FROM deliveries
                WHERE organization_id = \(bind: organizationID) AND state IN ('pending', 'assigned', 'picked_up') ORDER BY created_at_ms, id
                """
            ).all().map(Self.delivery)
        }
    }

    /// Stores a new pending delivery, or returns the one an earlier request with the same idempotency key made.
    func create(_ delivery: Delivery, organizationID: Int64, idempotencyKey: IdempotencyKey?) async throws -> (Delivery, isNew: Bool) {
        try await storage.write { transaction in
            if let idempotencyKey, case .replay(let id) = try await transaction.claim(idempotencyKey, for: "delivery") {
                guard let id = UUID(uuidString: id), let earlier = try await Self.delivery(id, of: organizationID, in: transaction.sql)
                else { throw DatabaseUnavailable("the delivery of an earlier request with this key is gone") }
                return (earlier, false)
            }
            var delivery = delivery
            delivery.createdAtMs = transaction.timeMs
            try await transaction.sql.raw(
                """
                INSERT INTO deliveries (id, organization_id, state, origin_x, origin_y, destination_x, destination_y, weight_kg, priority,
                                        created_at_ms, version)
                VALUES (\(bind: delivery.id.uuidString), \(bind: organizationID), \(bind: delivery.state.rawValue), \(bind: delivery.origin.x),
                        \(bind: delivery.origin.y), \(bind: delivery.destination.x), \(bind: delivery.destination.y), \(bind: delivery.weightKg),
                        \(bind: delivery.priority), \(bind: transaction.timeMs), \(bind: delivery.version))
                """
            ).run()
            if let idempotencyKey { try await transaction.remember(idempotencyKey, made: "delivery", id: delivery.id.uuidString) }
            try await Self.append(.created, delivery, organizationID: organizationID, in: transaction)
            return (delivery, true)
        }
    }

    /// Writes a delivery's new state if nobody changed it since it was read. False when somebody did.
    static func save(_ delivery: Delivery, readVersion: Int, organizationID: Int64, in transaction: Transaction) async throws -> Bool {
        let row = try await transaction.sql.raw(
            """
            UPDATE deliveries SET state = \(bind: delivery.state.rawValue), drone_id = \(bind: delivery.droneID),
                assigned_at_ms = \(bind: delivery.assignedAtMs), picked_up_at_ms = \(bind: delivery.pickedUpAtMs),
                delivered_at_ms = \(bind: delivery.deliveredAtMs), ended_at_ms = \(bind: delivery.endedAtMs), reason = \(bind: delivery.reason),
                version = \(bind: delivery.version)
            WHERE id = \(bind: delivery.id.uuidString) AND organization_id = \(bind: organizationID) AND version = \(bind: readVersion)
            RETURNING version
            """
        ).first()
        return row != nil
    }

    /// A change to drones and deliveries that must happen together or not at all; the read versions are checked.
    struct Change: Sendable {
        var drones: [(drone: Drone, readVersion: Int, event: DroneEvent?)] = []
        var deliveries: [(delivery: Delivery, readVersion: Int, event: DeliveryEvent)] = []
        var isEmpty: Bool { drones.isEmpty && deliveries.isEmpty }
    }

    /// Applies a change in one transaction; false (and nothing written) when any of its rows changed meanwhile.
    @discardableResult
    func apply(_ change: Change, organizationID: Int64) async throws -> Bool {
        guard !change.isEmpty else { return true }
        do {
            try await storage.write { transaction in
                for (drone, readVersion, event) in change.drones {
                    guard try await Self.save(drone, readVersion: readVersion, organizationID: organizationID, in: transaction) else { throw Conflict() }
                    if let event { try await Self.append(event, drone, organizationID: organizationID, in: transaction) }
                }
                for (delivery, readVersion, event) in change.deliveries {
                    guard try await Self.save(delivery, readVersion: readVersion, organizationID: organizationID, in: transaction) else { throw Conflict() }
                    try await Self.append(event, delivery, organizationID: organizationID, in: transaction)
                }
            }
            return true
        } catch is Conflict {
            return false
        }
    }

    /// Somebody else changed a row first; the transaction rolls back.
    struct Conflict: Error {}

    // MARK: Events

    enum DeliveryEvent: String, Sendable {
        case created, assigned
        case pickedUp = "picked_up"
        case delivered, failed, cancelled, requeued
    }

    enum DroneEvent: String, Sendable {
        case droneRegistered = "registered"
        case changed
    }

    static func append(_ event: DeliveryEvent, _ delivery: Delivery, organizationID: Int64, in transaction: Transaction) async throws {
        try await transaction.append(
            NewEvent(
                tenant: organizationID,
                stream: "delivery:\(delivery.id.uuidString)",
                type: "delivery.\(event.rawValue)",
                topics: [FleetTopics.fleet(organizationID), FleetTopics.delivery(delivery.id)],
                json: try JSONCoding.text(delivery)
            )
        )
    }

    static func append(_ event: DroneEvent, _ drone: Drone, organizationID: Int64, in transaction: Transaction) async throws {
        try await transaction.append(
            NewEvent(
                tenant: organizationID,
                stream: "drone:\(organizationID):\(drone.id)",
                type: "drone.\(event.rawValue)",
                topics: [FleetTopics.fleet(organizationID)],
                json: try JSONCoding.text(drone)
            )
        )
    }

    // MARK: Statistics

    /// Percentiles of how long the deliveries that ended in the last hour took to be assigned and delivered.
    struct Timings: Sendable {
        var assignmentSeconds: [Double] = []
        var deliverySeconds: [Double] = []
        var delivered = 0
        var failed = 0
    }

    func timings(of organizationID: Int64, sinceMs: Int64) async throws -> Timings {
        try await storage.read { sql in
            var timings = Timings()
            for row in try await sql.raw(
                """
                SELECT state, created_at_ms, assigned_at_ms, delivered_at_ms FROM deliveries
                WHERE organization_id = \(bind: organizationID) AND ((ended_at_ms > \(bind: sinceMs)) OR (assigned_at_ms > \(bind: sinceMs)))
                """
            ).all() {
                let created = try row.decode(column: "created_at_ms", as: Int64.self)
                if let assigned = try row.decode(column: "assigned_at_ms", as: Int64?.self), assigned > sinceMs {
                    timings.assignmentSeconds.append(Double(assigned - created) / 1_000)
                }
                switch try row.decode(column: "state", as: String.self) {
                case DeliveryState.delivered.rawValue:
                    timings.delivered += 1
                    if let delivered = try row.decode(column: "delivered_at_ms", as: Int64?.self) {
                        timings.deliverySeconds.append(Double(delivered - created) / 1_000)
                    }
                case DeliveryState.failed.rawValue: timings.failed += 1
                default: break
                }
            }
            return timings
        }
    }

    func backlog(of organizationID: Int64) async throws -> Int {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT COUNT(*) AS n FROM deliveries WHERE organization_id = \(bind: organizationID) AND state = 'pending'
                """
            ).first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}

/// The live topics of the fleet.
public enum FleetTopics {
    /// Every drone and delivery of an organization, for its dispatch screens (its staff only).
    public static func fleet(_ organizationID: Int64) -> String { "fleet:\(organizationID)" }
    /// One delivery, for whoever posted it (its id is the secret).
    public static func delivery(_ id: UUID) -> String { "delivery:\(id.uuidString)" }
}

import Foundation
import Hummingbird
import TurnoCore

/// The fleet's API: deliveries (post, read, list, cancel), drones (register, activate, retire, telemetry), the map
/// and the statistics. Every route is for the caller's organization only.
struct FleetController: Sendable {
    let store: FleetStore
    let commands: FleetCommands
    let rules: FleetRules
    /// The time of day, from the server's clock.
    let clock: any ServerClock

    // MARK: Request and response types

    struct PointBody: Decodable {
        var x: Double
        var y: Double
        var point: Point { Point(x: x, y: y) }
    }

    struct DeliveryRequest: Decodable {
        var origin: PointBody
        var destination: PointBody
        var weightKg: Double
        var priority: Int?
    }

    struct DeliveryList: Encodable {
        var deliveries: [Delivery]
    }

    struct DroneRequest: Decodable {
        var id: String?
        var type: DroneType
        var position: PointBody?
        var battery: Double?
        var reportsTelemetry: Bool?
        var active: Bool?
    }

    struct DroneChangeRequest: Decodable {
        var state: DroneState
    }

    struct TelemetryRequest: Decodable {
        var position: PointBody
        var battery: Double
        var state: DroneState?
    }

    struct DroneList: ResponseEncodable {
        var drones: [Drone]
    }

    struct ZoneList: ResponseEncodable {
        var bounds: Bounds
        var zones: [Zone]
    }

    struct ChargingPointView: Encodable {
        var id: String
        var name: String
        var position: Point
        var pads: Int
        var padsInUse: Int
    }

    struct ChargingPointList: ResponseEncodable {
        var chargingPoints: [ChargingPointView]
    }

    struct Percentiles: Encodable {
        var p50: Double?
        var p95: Double?

        init(_ samples: [Double]) {
            let sorted = samples.sorted()
            p50 = Percentile.nearestRank(0.5, of: sorted)
            p95 = Percentile.nearestRank(0.95, of: sorted)
        }
    }

    struct FleetStatistics: ResponseEncodable {
        var backlog: Int
        var drones: [String: Int]
        var assignmentLatencySeconds: Percentiles
        var deliveryTimeSeconds: Percentiles
        var deliveredLastHour: Int
        var failedLastHour: Int
    }

    // MARK: Routes

    func add(to router: Router<TurnoRequestContext>) {
        let read = router.group("/api/v1").add(middleware: RequireAccess(.fleetRead))
        let deliveries = router.group("/api/v1").add(middleware: RequireAccess(.fleetDeliveries))
        let drones = router.group("/api/v1").add(middleware: RequireAccess(.fleetDrones))

        deliveries.post("/deliveries", use: postDelivery)
        read.get("/deliveries/:delivery", use: showDelivery)
        read.get("/deliveries", use: listDeliveries)
        deliveries.post("/deliveries/:delivery/cancel", use: cancelDelivery)

        read.get("/drones", use: listDrones)
        read.get("/drones/:drone", use: showDrone)
        drones.post("/drones", use: registerDrone)
        drones.patch("/drones/:drone", use: changeDroneState)
        drones.post("/drones/:drone/telemetry", use: telemetry)

        read.get("/zones", use: zones)
        read.get("/charging-points", use: chargingPoints)
        read.get("/fleet/stats", use: statistics)
    }

    // MARK: Deliveries

    @Sendable func postDelivery(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        var request = request
        let organizationID = try context.requirePrincipal().organizationID
        let key = try await request.idempotencyKey(context: context)
        let body = try await request.decode(as: DeliveryRequest.self, context: context)
        let map = try await store.map(of: organizationID)
        let priority = body.priority ?? 0
        if let problem = Delivery.firstBrokenRule(
            origin: body.origin.point,
            destination: body.destination.point,
            weightKg: body.weightKg,
            priority: priority,
            map: map,
            rules: rules
        ) {
            throw Problem.unprocessable(problem)
        }
        let delivery = Delivery(
            id: UUID(),
            origin: body.origin.point,
            destination: body.destination.point,
            weightKg: body.weightKg,
            priority: priority,
            createdAtMs: clock.nowMilliseconds()
        )
        let (stored, isNew) = try await commands.post(delivery, organizationID: organizationID, idempotencyKey: key)
        var response = try Response.json(stored, status: isNew ? .created : .ok)
        response.headers[.location] = "/api/v1/deliveries/\(stored.id.uuidString)"
        return response
    }

    @Sendable func showDelivery(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try Response.json(try await delivery(context))
    }

    @Sendable func listDeliveries(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let states = try Self.deliveryStates(request)
        let limit = try Self.limit(request)
        return try Response.json(
            DeliveryList(deliveries: try await store.deliveries(of: context.requirePrincipal().organizationID, states: states, limit: limit))
        )
    }

    @Sendable func cancelDelivery(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let id = try await delivery(context).id
        return try Response.json(
            try await commands.cancel(
                deliveryID: id,
                organizationID: context.requirePrincipal().organizationID,
                nowMs: clock.nowMilliseconds()
            )
        )
    }

    // MARK: Drones

    @Sendable func listDrones(_ request: Request, context: TurnoRequestContext) async throws -> DroneList {
        let state = try request.uri.queryParameters.get("state").map { name in
            guard let state = DroneState(rawValue: String(name)) else {
                throw Problem.badRequest("`\(name)` is not a drone state: use \(DroneState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        }
        return DroneList(drones: try await store.drones(of: context.requirePrincipal().organizationID, state: state))
    }

    @Sendable func showDrone(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try Response.json(try await drone(context))
    }

    @Sendable func registerDrone(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let organizationID = try context.requirePrincipal().organizationID
        let body = try await request.decode(as: DroneRequest.self, context: context)
        let drone = try Self.newDrone(body, map: try await store.map(of: organizationID))
        var response = try Response.json(try await commands.register(drone, organizationID: organizationID), status: .created)
        response.headers[.location] = "/api/v1/drones/\(drone.id)"
        return response
    }

    @Sendable func changeDroneState(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: DroneChangeRequest.self, context: context)
        guard [.idle, .retiring, .inactive, .offline].contains(body.state) else {
            throw Problem.unprocessable(
                "a drone is activated (`idle`), retired (`retiring`), put `offline` or back to `inactive`; the dispatcher and the drone do the rest"
            )
        }
        return try Response.json(
            try await changeDrone(context) { drone, delivery throws(FleetRuleViolation) in
                switch body.state {
                case .idle: try drone.activate()
                case .retiring: try drone.retire()
                case .offline: try drone.goOffline(carrying: &delivery, reason: "drone \(drone.id) was taken offline")
                default: try drone.change(to: body.state)
                }
            }
        )
    }

    @Sendable func telemetry(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: TelemetryRequest.self, context: context)
        guard body.battery.isFinite, (0...100).contains(body.battery) else { throw Problem.unprocessable("the battery must be between 0 and 100 %") }
        let map = try await store.map(of: context.requirePrincipal().organizationID)
        guard body.position.point.isFinite, map.bounds.contains(body.position.point) else { throw Problem.unprocessable("the position is outside the map") }
        let report = TelemetryReport(position: body.position.point, battery: body.battery, state: body.state)
        // A measurement a drone sends every second, not a change someone makes: the drone's own state records it.
        return try await AuditTrail.$current.withValue(nil) {
            try Response.json(
                try await changeDrone(context) { drone, delivery throws(FleetRuleViolation) in
                    try Telemetry.apply(report, to: &drone, delivery: &delivery, nowMs: clock.nowMilliseconds())
                }
            )
        }
    }

    // MARK: Map and statistics

    @Sendable func zones(_ request: Request, context: TurnoRequestContext) async throws -> ZoneList {
        let map = try await store.map(of: context.requirePrincipal().organizationID)
        return ZoneList(bounds: map.bounds, zones: map.zones)
    }

    @Sendable func chargingPoints(_ request: Request, context: TurnoRequestContext) async throws -> ChargingPointList {
        let organizationID = try context.requirePrincipal().organizationID
        let map = try await store.map(of: organizationID)
        var inUse: [String: Int] = [:]
        for drone in try await store.drones(of: organizationID) where drone.state == .charging || drone.state == .returning {
            if let point = drone.chargingPointID { inUse[point, default: 0] += 1 }
        }
        return ChargingPointList(
            chargingPoints: map.chargingPoints.map {
                ChargingPointView(id: $0.id, name: $0.name, position: $0.position, pads: $0.pads, padsInUse: inUse[$0.id] ?? 0)
            }
        )
    }

    @Sendable func statistics(_ request: Request, context: TurnoRequestContext) async throws -> FleetStatistics {
        let organizationID = try context.requirePrincipal().organizationID
        let counts = try await store.drones(of: organizationID).reduce(into: Dictionary(uniqueKeysWithValues: DroneState.allCases.map { ($0.rawValue, 0) })) {
            $0[$1.state.rawValue, default: 0] += 1
        }
        let timings = try await store.timings(of: organizationID, sinceMs: clock.nowMilliseconds() - 3_600_000)
        return FleetStatistics(
            backlog: try await store.backlog(of: organizationID),
            drones: counts,
            assignmentLatencySeconds: Percentiles(timings.assignmentSeconds),
            deliveryTimeSeconds: Percentiles(timings.deliverySeconds),
            deliveredLastHour: timings.delivered,
            failedLastHour: timings.failed
        )
    }

    // MARK: Helpers

    func delivery(_ context: TurnoRequestContext) async throws -> Delivery {
        let text = context.parameters.get("delivery") ?? ""
        guard let id = UUID(uuidString: text), let delivery = try await store.delivery(id, of: context.requirePrincipal().organizationID) else {
            throw Problem.notFound("there is no delivery \(text)")
        }
        return delivery
    }

    func drone(_ context: TurnoRequestContext) async throws -> Drone {
        let id = context.parameters.get("drone") ?? ""
        guard let drone = try await store.drone(id, of: context.requirePrincipal().organizationID) else { throw Problem.notFound("there is no drone \(id)") }
        return drone
    }

    /// The drone in the path, changed by `change` (see ``FleetCommands/changeDrone(_:organizationID:_:)``).
    func changeDrone(
        _ context: TurnoRequestContext,
        _ change: (inout Drone, inout Delivery?) throws(FleetRuleViolation) -> Void
    ) async throws -> Drone {
        try await commands.changeDrone(context.parameters.get("drone") ?? "", organizationID: context.requirePrincipal().organizationID, change)
    }

    /// `state=pending,assigned`: the delivery states to list, nil for all.
    static func deliveryStates(_ request: Request) throws -> [DeliveryState]? {
        try request.uri.queryParameters.get("state").map { text in
            // `state=` and `pending,,assigned` name a state that is not one: refused like any unknown state.
            try text.split(separator: ",", omittingEmptySubsequences: false).map { name in
                guard let state = DeliveryState(rawValue: String(name)) else {
                    throw Problem.badRequest("`\(name)` is not a delivery state: use \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return state
            }
        }
    }

    static func limit(_ request: Request) throws -> Int {
        try request.uri.queryParameters.get("limit").map { text in
            guard let limit = Int(text), (1...1_000).contains(limit) else { throw Problem.badRequest("limit must be a whole number from 1 to 1,000") }
            return limit
        } ?? 100
    }

    /// The drone a registration describes, placed at the first charging point (or the map's centre) unless it says where.
    static func newDrone(_ body: DroneRequest, map: FleetMap) throws -> Drone {
        let id = body.id ?? "drone-\(UUID().uuidString.prefix(8).lowercased())"
        guard (1...40).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw Problem.unprocessable("a drone id has 1 to 40 letters, digits, `-` or `_`")
        }
        let position = body.position?.point ?? map.chargingPoints.first?.position ?? map.bounds.center
        guard position.isFinite, map.bounds.contains(position) else { throw Problem.unprocessable("the position is outside the map") }
        let battery = body.battery ?? 100
        guard battery.isFinite, (0...100).contains(battery) else { throw Problem.unprocessable("the battery must be between 0 and 100 %") }
        return Drone(
            id: id,
            type: body.type,
            position: position,
            battery: battery,
            state: body.active == false ? .inactive : .idle,
            reportsTelemetry: body.reportsTelemetry ?? false
        )
    }
}

extension Delivery: ResponseEncodable {}
extension Drone: ResponseEncodable {}

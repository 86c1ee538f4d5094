import TurnoCore

extension RouteGroup {
    /// Seeing the fleet: its map, drones, deliveries and statistics.
    public static let fleetRead = RouteGroup(
        "fleet-read",
        summary: "the fleet's map, drones, deliveries, statistics",
        roles: Set(Role.allCases),
        scopes: [.fleetWrite]
    )
    /// Posting and cancelling deliveries.
    public static let fleetDeliveries = RouteGroup(
        "fleet-deliveries",
        summary: "posting and cancelling deliveries",
        roles: Set(Role.allCases),
        scopes: [.fleetWrite]
    )
    /// Registering, activating and retiring drones, and their telemetry.
    public static let fleetDrones = RouteGroup("fleet-drones", summary: "drones and their telemetry", roles: [.admin, .manager], scopes: [.fleetWrite])
}

extension Scope {
    /// Everything of the fleet: deliveries, drones, telemetry (a dispatch system, the drones' gateway).
    public static let fleetWrite = Scope(rawValue: "fleet:write")
}

import TurnoCore

/// The fleet's tables, per organization: its map (zones and charging points), its drones and its deliveries.
/// Positions are metres on the organization's local plane; times are milliseconds since 1970 (UTC).
enum FleetSchema {
    static let migrations: [Migration] = [
        Migration(module: "fleet", version: 1, name: "map, drones and deliveries") { kind in
            let real = kind == .postgres ? "DOUBLE PRECISION" : "REAL"
            return [
                """
                CREATE TABLE fleet_zones (
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    min_x \(real) NOT NULL,
                    min_y \(real) NOT NULL,
                    max_x \(real) NOT NULL,
                    max_y \(real) NOT NULL,
                    PRIMARY KEY (organization_id, id)
                )
                """,
                """
                CREATE TABLE fleet_charging_points (
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    x \(real) NOT NULL,
                    y \(real) NOT NULL,
                    pads INTEGER NOT NULL,
                    PRIMARY KEY (organization_id, id)
                )
                """,
                """
                CREATE TABLE drones (
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    state TEXT NOT NULL,
                    x \(real) NOT NULL,
                    y \(real) NOT NULL,
                    battery \(real) NOT NULL,
                    delivery_id TEXT,
                    target_x \(real),
                    target_y \(real),
                    charging_point_id TEXT,
                    reports_telemetry INTEGER NOT NULL,
                    version BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL,
                    PRIMARY KEY (organization_id, id)
                )
                """,
                "CREATE INDEX drones_updated ON drones (organization_id, updated_at_ms)",
                """
                CREATE TABLE deliveries (
                    id TEXT PRIMARY KEY,
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    state TEXT NOT NULL,
                    origin_x \(real) NOT NULL,
                    origin_y \(real) NOT NULL,
                    destination_x \(real) NOT NULL,
                    destination_y \(real) NOT NULL,
                    weight_kg \(real) NOT NULL,
                    priority INTEGER NOT NULL,
                    drone_id TEXT,
                    created_at_ms BIGINT NOT NULL,
                    assigned_at_ms BIGINT,
                    picked_up_at_ms BIGINT,
                    delivered_at_ms BIGINT,
                    ended_at_ms BIGINT,
                    reason TEXT,
                    version BIGINT NOT NULL,
                    idempotency_key TEXT
                )
                """,
                "CREATE INDEX deliveries_state ON deliveries (organization_id, state, created_at_ms)",
                "CREATE INDEX deliveries_newest ON deliveries (organization_id, created_at_ms)",
                "CREATE INDEX deliveries_ended ON deliveries (organization_id, ended_at_ms)",
                "CREATE UNIQUE INDEX deliveries_idempotency_key ON deliveries (organization_id, idempotency_key)",
            ]
        }
    ]
}

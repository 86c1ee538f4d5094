import TurnoCore

/// The sessions module's tables: the sessions, and per user, sport and 15-minute slot the roll-ups that statistics
/// read (kept exact in the same transaction as every insert, change and deletion).
enum SessionSchema {
    static let migrations: [Migration] = [
        Migration(module: "sessions", version: 1, name: "sessions and their roll-ups") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            let real = kind == .postgres ? "DOUBLE PRECISION" : "REAL"
            return [
                """
                CREATE TABLE sessions (
                    id \(id),
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    user_id TEXT NOT NULL,
                    sport TEXT NOT NULL,
                    started_at_ms BIGINT NOT NULL,
                    duration_s INTEGER NOT NULL,
                    distance_m \(real),
                    calories_kcal \(real),
                    avg_hr_bpm INTEGER,
                    max_hr_bpm INTEGER,
                    elevation_gain_m \(real),
                    notes TEXT,
                    external_id TEXT,
                    idempotency_key TEXT,
                    created_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX sessions_newest ON sessions (organization_id, started_at_ms, id)",
                "CREATE INDEX sessions_user_newest ON sessions (organization_id, user_id, started_at_ms, id)",
                "CREATE UNIQUE INDEX sessions_external_id ON sessions (organization_id, external_id)",
                "CREATE UNIQUE INDEX sessions_idempotency_key ON sessions (organization_id, idempotency_key)",
                """
                CREATE TABLE session_rollups (
                    organization_id BIGINT NOT NULL,
                    user_id TEXT NOT NULL,
                    slot BIGINT NOT NULL,
                    sport TEXT NOT NULL,
                    session_count BIGINT NOT NULL,
                    duration_s BIGINT NOT NULL,
                    distance_m \(real) NOT NULL,
                    calories_kcal \(real) NOT NULL,
                    elevation_gain_m \(real) NOT NULL,
                    hr_weighted \(real) NOT NULL,
                    hr_duration_s BIGINT NOT NULL,
                    distance_duration_s BIGINT NOT NULL,
                    max_duration_s BIGINT NOT NULL,
                    max_distance_m \(real) NOT NULL,
                    PRIMARY KEY (organization_id, user_id, slot, sport)
                )
                """,
            ]
        },
    ]
}

import TurnoCore

/// The sessions module's tables: the sessions, per user, sport and 15-minute slot the roll-ups that statistics
/// read, and per user the summary that the athlete list reads (both kept exact in the same transaction as every
/// insert, change and deletion).
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
        // The athlete list sorts every athlete of an organization by their last session: from the sessions that is
        // a GROUP BY over all of them on every page (a third of a second per million sessions on SQLite), so each
        // athlete has a row here, read a page at a time through `session_athletes_latest`. Filled from the sessions
        // already stored. On PostgreSQL user_id compares byte by byte (COLLATE "C"), as on SQLite, so the order
        // and the prefix search are the same on both.
        Migration(module: "sessions", version: 2, name: "athletes: one summary row per user") { kind in
            let real = kind == .postgres ? "DOUBLE PRECISION" : "REAL"
            let bytewise = kind == .postgres ? #" COLLATE "C""# : ""
            return [
                """
                CREATE TABLE session_athletes (
                    organization_id BIGINT NOT NULL,
                    user_id TEXT\(bytewise) NOT NULL,
                    session_count BIGINT NOT NULL,
                    duration_s BIGINT NOT NULL,
                    distance_m \(real) NOT NULL,
                    sports BIGINT NOT NULL,
                    first_started_at_ms BIGINT NOT NULL,
                    last_started_at_ms BIGINT NOT NULL,
                    PRIMARY KEY (organization_id, user_id)
                )
                """,
                "CREATE INDEX session_athletes_latest ON session_athletes (organization_id, last_started_at_ms, user_id)",
                "INSERT INTO session_athletes (\(athleteColumns)) \(athleteSums) GROUP BY organization_id, user_id",
            ]
        },
    ]

    static let athleteColumns = "organization_id, user_id, session_count, duration_s, distance_m, sports, first_started_at_ms, last_started_at_ms"

    /// The summary rows of `session_athletes` (in `athleteColumns` order) added up from the sessions themselves: to
    /// be followed by the sessions' condition, if any, and `GROUP BY organization_id, user_id`. A sport that is not
    /// known counts as other, as when sessions are read.
    static var athleteSums: String {
        let bits = Sport.allCases.map { "WHEN '\($0.rawValue)' THEN \(bit(of: $0))" }.joined(separator: " ")
        return """
            SELECT organization_id, user_id, COUNT(*), SUM(duration_s), COALESCE(SUM(distance_m), 0),
                   SUM(DISTINCT CASE sport \(bits) ELSE \(bit(of: .other)) END), MIN(started_at_ms), MAX(started_at_ms)
            FROM sessions
            """
    }

    /// The bit of each sport in `session_athletes.sports`. Stored: a sport keeps its bit for good, and a new sport
    /// takes a new one, whatever the order of `Sport.allCases`.
    static func bit(of sport: Sport) -> Int64 {
        switch sport {
        case .run: 1
        case .ride: 2
        case .swim: 4
        case .walk: 8
        case .hike: 16
        case .row: 32
        case .strength: 64
        case .yoga: 128
        case .other: 256
        }
    }

    /// The sports of a `session_athletes.sports` value, in the order of `Sport.allCases`.
    static func sports(in bits: Int64) -> [Sport] {
        Sport.allCases.filter { bits & bit(of: $0) != 0 }
    }
}

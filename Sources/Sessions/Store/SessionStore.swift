import Foundation
import SQLKit
import TurnoCore

/// SQL for exercise sessions. Every insert, change and deletion updates the user's roll-ups and athlete summary in
/// the same transaction: inserts add to them, changes and deletions recompute the slots (and the users) they touch
/// from the sessions left, so both always equal what the sessions add up to.
public struct SessionStore: Sendable {
    let storage: Storage

    public init(storage: Storage) {
        self.storage = storage
    }

    /// What happened to one session of an insert.
    public enum Outcome: Sendable, Equatable {
        case created(ExerciseSession)
        /// Already stored under the same `external_id` (or `Idempotency-Key`): the stored one, unchanged.
        case existing(ExerciseSession)

        public var session: ExerciseSession {
            switch self {
            case .created(let session), .existing(let session): session
            }
        }
    }

    // MARK: Writing

    /// Stores valid sessions with their roll-ups and athlete sums; a session whose `external_id` is already stored is
    /// not stored again (the stored one is answered).
    func insert(_ sessions: [ExerciseSession], organizationID: Int64, in transaction: Transaction) async throws -> [Outcome] {
        let sql = transaction.sql
        var known = try await existingByExternalID(sessions.compactMap(\.externalID), organizationID: organizationID, sql: sql)
        var outcomes: [Outcome?] = Array(repeating: nil, count: sessions.count)
        var fresh: [(index: Int, session: ExerciseSession)] = []
        var claimed: Set<String> = []
        for (index, session) in sessions.enumerated() {
            if let external = session.externalID {
                if let stored = known[external] {
                    outcomes[index] = .existing(stored)
                    continue
                }
                // The same external id twice in one batch: the first is stored, the others answer with it.
                guard claimed.insert(external).inserted else { continue }
            }
            fresh.append((index, session))
        }
        for chunk in fresh.chunks(of: 500) {
            let values = chunk.map { item -> SQLQueryString in
                let s = item.session
                return """
                    (\(bind: organizationID), \(bind: s.userID), \(bind: s.sport.rawValue), \(bind: s.startedAtMs), \(bind: s.durationS), \(bind: s.distanceM),
                     \(bind: s.caloriesKcal), \(bind: s.avgHrBpm), \(bind: s.maxHrBpm), \(bind: s.elevationGainM), \(bind: s.notes), \(bind: s.externalID),
                     \(bind: s.createdAtMs))
                    """
            }
            let insert: SQLQueryString = """
                INSERT INTO sessions (organization_id, user_id, sport, started_at_ms, duration_s, distance_m, calories_kcal, avg_hr_bpm, max_hr_bpm,
                                      elevation_gain_m, notes, external_id, created_at_ms)
                VALUES \(values.joined(separator: ", ")) RETURNING id
                """
            // Rows of one statement take increasing ids in the order of their VALUES.
            let ids = try await sql.raw(insert).all().map { try $0.decode(column: "id", as: Int64.self) }.sorted()
            guard ids.count == chunk.count else { throw DatabaseUnavailable("the database stored \(ids.count) of \(chunk.count) sessions") }
            for (item, id) in zip(chunk, ids) {
                var stored = item.session
                stored.id = id
                outcomes[item.index] = .created(stored)
                if let external = stored.externalID { known[external] = stored }
            }
        }
        for (index, session) in sessions.enumerated() where outcomes[index] == nil {
            outcomes[index] = .existing(known[session.externalID!]!)
        }
        let created = outcomes.compactMap { if case .created(let session)? = $0 { session } else { nil } }
        try await addToRollups(created, organizationID: organizationID, sql: sql)
        try await addToAthletes(created, organizationID: organizationID, sql: sql)
        return outcomes.map { $0! }
    }

    /// Writes the changed session over the stored one, with its roll-ups and athlete sums.
    func replace(_ before: ExerciseSession, with after: ExerciseSession, organizationID: Int64, in transaction: Transaction) async throws {
        let sql = transaction.sql
        if let external = after.externalID, external != before.externalID,
            try await existingByExternalID([external], organizationID: organizationID, sql: sql)[external] != nil
        {
            throw SessionRuleViolation.duplicateExternalID(external)
        }
        try await sql.raw(
            """
            UPDATE sessions SET user_id = \(bind: after.userID), sport = \(bind: after.sport.rawValue), started_at_ms = \(bind: after.startedAtMs),
                duration_s = \(bind: after.durationS), distance_m = \(bind: after.distanceM), calories_kcal = \(bind: after.caloriesKcal),
                avg_hr_bpm = \(bind: after.avgHrBpm), max_hr_bpm = \(bind: after.maxHrBpm), elevation_gain_m = \(bind: after.elevationGainM),
                notes = \(bind: after.notes), external_id = \(bind: after.externalID)
            WHERE id = \(bind: before.id)
            """
        ).run()
        try await recomputeRollups(of: [before, after], organizationID: organizationID, sql: sql)
        try await recomputeAthletes([before.userID, after.userID], organizationID: organizationID, sql: sql)
    }

    /// Deletes a stored session, with its roll-ups and athlete sums.
    func delete(_ session: ExerciseSession, organizationID: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM sessions WHERE id = \(bind: session.id)").run()
        try await recomputeRollups(of: [session], organizationID: organizationID, sql: transaction.sql)
        try await recomputeAthletes([session.userID], organizationID: organizationID, sql: transaction.sql)
    }

    private func existingByExternalID(_ ids: [String], organizationID: Int64, sql: any SQLDatabase) async throws -> [String: ExerciseSession] {
        var found: [String: ExerciseSession] = [:]
        for chunk in ids.chunks(of: 500) {
            let list = chunk.map { SQLQueryString("\(bind: $0)") }.joined(separator: ", ")
            for row in try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM sessions WHERE organization_id = \(bind: organizationID) AND external_id IN (\(list))
                """
            ).all() {
                let session = try Self.session(from: row)
                found[session.externalID!] = session
            }
        }
        return found
    }

    /// Adds new sessions to their slots' roll-ups (one upsert per user, slot and sport).
    private func addToRollups(_ sessions: [ExerciseSession], organizationID: Int64, sql: any SQLDatabase) async throws {
        var sums: [RollupKey: Rollup] = [:]
        for session in sessions {
            sums[RollupKey(session), default: Rollup(slot: Rollup.slot(of: session.startedAtMs), sport: session.sport)].add(Rollup(session))
        }
        // Always in the same order, so concurrent batches touching the same slots lock their rows in the same order
        // and never deadlock on PostgreSQL.
        let entries = sums.sorted { $0.key < $1.key }
        for chunk in entries.chunks(of: 500) {
            let values = chunk.map { key, r -> SQLQueryString in
                """
                (\(bind: organizationID), \(bind: key.user), \(bind: r.slot), \(bind: r.sport.rawValue), \(bind: r.count), \(bind: r.durationS), \(bind: r.distanceM),
                 \(bind: r.caloriesKcal), \(bind: r.elevationGainM), \(bind: r.heartRateWeighted), \(bind: r.heartRateDurationS), \(bind: r.distanceDurationS),
                 \(bind: r.maxDurationS), \(bind: r.maxDistanceM))
                """
            }
            try await sql.raw(
                """
                INSERT INTO session_rollups (organization_id, user_id, slot, sport, session_count, duration_s, distance_m, calories_kcal, elevation_gain_m,
                                             hr_weighted, hr_duration_s, distance_duration_s, max_duration_s, max_distance_m)
                VALUES \(values.joined(separator: ", "))
                ON CONFLICT (organization_id, user_id, slot, sport) DO UPDATE SET
                    session_count = session_rollups.session_count + excluded.session_count,
                    duration_s = session_rollups.duration_s + excluded.duration_s,
                    distance_m = session_rollups.distance_m + excluded.distance_m,
                    calories_kcal = session_rollups.calories_kcal + excluded.calories_kcal,
                    elevation_gain_m = session_rollups.elevation_gain_m + excluded.elevation_gain_m,
                    hr_weighted = session_rollups.hr_weighted + excluded.hr_weighted,
                    hr_duration_s = session_rollups.hr_duration_s + excluded.hr_duration_s,
                    distance_duration_s = session_rollups.distance_duration_s + excluded.distance_duration_s,
                    max_duration_s = CASE WHEN excluded.max_duration_s > session_rollups.max_duration_s THEN excluded.max_duration_s ELSE session_rollups.max_duration_s END,
                    max_distance_m = CASE WHEN excluded.max_distance_m > session_rollups.max_distance_m THEN excluded.max_distance_m ELSE session_rollups.max_distance_m END
                """
            ).run()
        }
    }

    /// Recomputes the slots these sessions are (or were) in from the sessions stored now: exact after any change,
    /// including the maxima, which cannot be taken back by subtracting.
    private func recomputeRollups(of sessions: [ExerciseSession], organizationID: Int64, sql: any SQLDatabase) async throws {
        for key in Set(sessions.map(RollupKey.init)) {
            try await sql.raw(
                """
                DELETE FROM session_rollups WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: key.user) AND slot = \(bind: key.slot) AND sport = \(bind: key.sport.rawValue)
                """
            ).run()
            try await sql.raw(
                """
                INSERT INTO session_rollups (organization_id, user_id, slot, sport, session_count, duration_s, distance_m, calories_kcal, elevation_gain_m,
                                             hr_weighted, hr_duration_s, distance_duration_s, max_duration_s, max_distance_m)
                SELECT organization_id, user_id, CAST(\(bind: key.slot) AS BIGINT), sport, COUNT(*), SUM(duration_s), COALESCE(SUM(distance_m), 0),
                       COALESCE(SUM(calories_kcal), 0), COALESCE(SUM(elevation_gain_m), 0), COALESCE(SUM(avg_hr_bpm * duration_s), 0),
                       SUM(CASE WHEN avg_hr_bpm IS NULL THEN 0 ELSE duration_s END), SUM(CASE WHEN distance_m IS NULL THEN 0 ELSE duration_s END),
                       MAX(duration_s), COALESCE(MAX(distance_m), 0)
                FROM sessions
                WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: key.user) AND sport = \(bind: key.sport.rawValue)
                  AND started_at_ms >= \(bind: key.slot * Rollup.slotMs) AND started_at_ms < \(bind: (key.slot + 1) * Rollup.slotMs)
                GROUP BY organization_id, user_id, sport
                """
            ).run()
        }
    }

    /// Adds new sessions to their users' summaries (one upsert per user, in the users' order like the roll-ups).
    private func addToAthletes(_ sessions: [ExerciseSession], organizationID: Int64, sql: any SQLDatabase) async throws {
        var sums: [String: AthleteSums] = [:]
        for session in sessions {
            sums[session.userID, default: AthleteSums(session)].add(session)
        }
        for chunk in sums.sorted(by: { $0.key < $1.key }).chunks(of: 500) {
            let values = chunk.map { user, a -> SQLQueryString in
                """
                (\(bind: organizationID), \(bind: user), \(bind: a.count), \(bind: a.durationS), \(bind: a.distanceM), \(bind: a.sports),
                 \(bind: a.firstMs), \(bind: a.lastMs))
                """
            }
            try await sql.raw(
                """
                INSERT INTO session_athletes (\(unsafeRaw: SessionSchema.athleteColumns))
                VALUES \(values.joined(separator: ", "))
                ON CONFLICT (organization_id, user_id) DO UPDATE SET
                    session_count = session_athletes.session_count + excluded.session_count,
                    duration_s = session_athletes.duration_s + excluded.duration_s,
                    distance_m = session_athletes.distance_m + excluded.distance_m,
                    sports = session_athletes.sports | excluded.sports,
                    first_started_at_ms = CASE WHEN excluded.first_started_at_ms < session_athletes.first_started_at_ms
                                               THEN excluded.first_started_at_ms ELSE session_athletes.first_started_at_ms END,
                    last_started_at_ms = CASE WHEN excluded.last_started_at_ms > session_athletes.last_started_at_ms
                                              THEN excluded.last_started_at_ms ELSE session_athletes.last_started_at_ms END
                """
            ).run()
        }
    }

    /// Recomputes these users' summaries from their sessions left (none left: no summary, the athlete is gone).
    /// Costs a pass over each user's sessions, which changes and deletions can afford.
    private func recomputeAthletes(_ users: [String], organizationID: Int64, sql: any SQLDatabase) async throws {
        for user in Set(users).sorted() {
            try await sql.raw("DELETE FROM session_athletes WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: user)").run()
            try await sql.raw(
                """
                INSERT INTO session_athletes (\(unsafeRaw: SessionSchema.athleteColumns))
                \(unsafeRaw: SessionSchema.athleteSums) WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: user)
                GROUP BY organization_id, user_id
                """
            ).run()
        }
    }

    // MARK: Reading

    public func session(id: Int64, organizationID: Int64) async throws -> ExerciseSession? {
        try await storage.read { sql in try await session(id: id, organizationID: organizationID, sql: sql) }
    }

    func session(id: Int64, organizationID: Int64, sql: any SQLDatabase) async throws -> ExerciseSession? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM sessions WHERE id = \(bind: id) AND organization_id = \(bind: organizationID)")
            .first().map(Self.session(from:))
    }

    /// Sessions matching a filter, newest first, after the position `filter.after` (keyset paging: stable while
    /// sessions are added).
    public func list(_ filter: SessionFilter, organizationID: Int64) async throws -> [ExerciseSession] {
        try await storage.read { sql in
            var query: SQLQueryString = "SELECT \(unsafeRaw: Self.columns) FROM sessions WHERE organization_id = \(bind: organizationID)"
            if let user = filter.userID { query += " AND user_id = \(bind: user)" }
            if let sport = filter.sport { query += " AND sport = \(bind: sport.rawValue)" }
            if let from = filter.fromMs { query += " AND started_at_ms >= \(bind: from)" }
            if let to = filter.toMs { query += " AND started_at_ms < \(bind: to)" }
            if let minimum = filter.minDurationS { query += " AND duration_s >= \(bind: minimum)" }
            if let maximum = filter.maxDurationS { query += " AND duration_s <= \(bind: maximum)" }
            if let minimum = filter.minDistanceM { query += " AND distance_m >= \(bind: minimum)" }
            if let after = filter.after {
                query += " AND (started_at_ms < \(bind: after.startedAtMs) OR (started_at_ms = \(bind: after.startedAtMs) AND id < \(bind: after.id)))"
            }
            query += " ORDER BY started_at_ms DESC, id DESC LIMIT \(literal: filter.limit)"
            return try await sql.raw(query).all().map(Self.session(from:))
        }
    }

    /// The user's sums per sport and local day of `timeZone`, for the days `first...last`: added up by the database
    /// from the roll-ups, one query per stretch of constant UTC offset (a daylight-saving change starts a new one).
    public func dayTotals(
        userID: String,
        first: LocalDate,
        last: LocalDate,
        timeZone: TimeZone,
        sport: Sport?,
        organizationID: Int64
    ) async throws -> [DayTotals] {
        try await storage.read { sql in
            var days: [DayTotals] = []
            for stretch in Self.constantOffsetStretches(from: first.startMs(in: timeZone), to: last.adding(days: 1).startMs(in: timeZone), timeZone: timeZone) {
                var query: SQLQueryString = """
                    SELECT sport, CAST((slot * \(literal: Rollup.slotMs) + \(bind: stretch.offsetMs)) / 86400000 AS BIGINT) AS day,
                           CAST(SUM(session_count) AS BIGINT) AS session_count, CAST(SUM(duration_s) AS BIGINT) AS duration_s,
                           SUM(distance_m) AS distance_m, SUM(calories_kcal) AS calories_kcal, SUM(elevation_gain_m) AS elevation_gain_m,
                           SUM(hr_weighted) AS hr_weighted, CAST(SUM(hr_duration_s) AS BIGINT) AS hr_duration_s,
                           CAST(SUM(distance_duration_s) AS BIGINT) AS distance_duration_s,
                           CAST(MAX(max_duration_s) AS BIGINT) AS max_duration_s, MAX(max_distance_m) AS max_distance_m
                    FROM session_rollups
                    WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: userID)
                      AND slot >= \(bind: stretch.slots.lowerBound) AND slot <= \(bind: stretch.slots.upperBound)
                    """
                if let sport { query += " AND sport = \(bind: sport.rawValue)" }
                query += " GROUP BY sport, day"
                for row in try await sql.raw(query).all() {
                    days.append(
                        DayTotals(
                            day: LocalDate(dayNumber: try row.decode(column: "day", as: Int.self)),
                            sport: Sport(rawValue: try row.decode(column: "sport", as: String.self)) ?? .other,
                            count: try row.decode(column: "session_count", as: Int.self),
                            durationS: try row.decode(column: "duration_s", as: Int.self),
                            distanceM: try row.decode(column: "distance_m", as: Double.self),
                            caloriesKcal: try row.decode(column: "calories_kcal", as: Double.self),
                            elevationGainM: try row.decode(column: "elevation_gain_m", as: Double.self),
                            heartRateWeighted: try row.decode(column: "hr_weighted", as: Double.self),
                            heartRateDurationS: try row.decode(column: "hr_duration_s", as: Int.self),
                            distanceDurationS: try row.decode(column: "distance_duration_s", as: Int.self),
                            maxDurationS: try row.decode(column: "max_duration_s", as: Int.self),
                            maxDistanceM: try row.decode(column: "max_distance_m", as: Double.self)
                        )
                    )
                }
            }
            return days
        }
    }

    /// The stretches of `[start, end)` over which `timeZone` keeps one UTC offset, as slot ranges with that offset.
    static func constantOffsetStretches(from start: Int64, to end: Int64, timeZone: TimeZone) -> [(slots: ClosedRange<Int64>, offsetMs: Int64)] {
        var stretches: [(ClosedRange<Int64>, Int64)] = []
        var from = start
        while from < end {
            let date = Date(milliseconds: from)
            let offset = Int64(timeZone.secondsFromGMT(for: date)) * 1000
            let change = timeZone.nextDaylightSavingTimeTransition(after: date).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? end
            let until = min(max(change, from + Rollup.slotMs), end)
            stretches.append((Rollup.slot(of: from)...(Rollup.slot(of: until) - 1), offset))
            from = until
        }
        return stretches
    }

    /// The session a best came from: the longest (by duration or distance) of its sport on its local day. Sessions
    /// without a distance sort last on both databases (PostgreSQL puts NULL first in a descending order).
    public func session(of best: Statistics.Best, byDistance: Bool, userID: String, timeZone: TimeZone, organizationID: Int64) async throws -> ExerciseSession?
    {
        let (start, end) = (best.day.startMs(in: timeZone), best.day.adding(days: 1).startMs(in: timeZone))
        return try await storage.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM sessions
                WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: userID) AND sport = \(bind: best.sport.rawValue)
                  AND started_at_ms >= \(bind: start) AND started_at_ms < \(bind: end)
                ORDER BY \(unsafeRaw: byDistance ? "COALESCE(distance_m, -1)" : "duration_s") DESC, id LIMIT 1
                """
            ).first().map(Self.session(from:))
        }
    }

    /// Whether the user has any session in the organization: whether there is such an athlete.
    public func isAthlete(userID: String, organizationID: Int64) async throws -> Bool {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT 1 AS known FROM session_athletes WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: userID)
                """
            ).first() != nil
        }
    }

    /// The organization's athletes (the users with sessions), the most recently active first, after the position
    /// `filter.after` (keyset paging, as the sessions' list).
    public func athletes(_ filter: AthleteFilter, organizationID: Int64) async throws -> [Athlete] {
        try await storage.read { sql in
            var query: SQLQueryString = """
                SELECT user_id, session_count, duration_s, distance_m, sports, first_started_at_ms, last_started_at_ms
                FROM session_athletes WHERE organization_id = \(bind: organizationID)
                """
            if let prefix = filter.prefix, !prefix.isEmpty {
                // A range of the primary key, bytewise on both databases (user ids are ASCII below `~`); the exact
                // prefix test keeps the answer right for any id.
                query += " AND user_id >= \(bind: prefix) AND user_id < \(bind: prefix + "~")"
                query += " AND substr(user_id, 1, \(literal: prefix.count)) = \(bind: prefix)"
            }
            if let after = filter.after {
                query += """
                     AND (last_started_at_ms < \(bind: after.lastStartedAtMs)
                          OR (last_started_at_ms = \(bind: after.lastStartedAtMs) AND user_id < \(bind: after.userID)))
                    """
            }
            query += " ORDER BY last_started_at_ms DESC, user_id DESC LIMIT \(literal: filter.limit)"
            return try await sql.raw(query).all().map { row in
                Athlete(
                    userID: try row.decode(column: "user_id", as: String.self),
                    sessionCount: try row.decode(column: "session_count", as: Int.self),
                    durationS: try row.decode(column: "duration_s", as: Int.self),
                    distanceM: try row.decode(column: "distance_m", as: Double.self),
                    sports: SessionSchema.sports(in: try row.decode(column: "sports", as: Int64.self)),
                    firstStartedAtMs: try row.decode(column: "first_started_at_ms", as: Int64.self),
                    lastStartedAtMs: try row.decode(column: "last_started_at_ms", as: Int64.self)
                )
            }
        }
    }

    static let columns = """
        id, user_id, sport, started_at_ms, duration_s, distance_m, calories_kcal, avg_hr_bpm, max_hr_bpm, elevation_gain_m, notes, external_id, created_at_ms
        """

    static func session(from row: any SQLRow) throws -> ExerciseSession {
        ExerciseSession(
            id: try row.decode(column: "id", as: Int64.self),
            userID: try row.decode(column: "user_id", as: String.self),
            sport: Sport(rawValue: try row.decode(column: "sport", as: String.self)) ?? .other,
            startedAtMs: try row.decode(column: "started_at_ms", as: Int64.self),
            durationS: try row.decode(column: "duration_s", as: Int.self),
            distanceM: try row.decode(column: "distance_m", as: Double?.self),
            caloriesKcal: try row.decode(column: "calories_kcal", as: Double?.self),
            avgHrBpm: try row.decode(column: "avg_hr_bpm", as: Int?.self),
            maxHrBpm: try row.decode(column: "max_hr_bpm", as: Int?.self),
            elevationGainM: try row.decode(column: "elevation_gain_m", as: Double?.self),
            notes: try row.decode(column: "notes", as: String?.self),
            externalID: try row.decode(column: "external_id", as: String?.self),
            createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self)
        )
    }
}

/// Which sessions a list or export wants.
public struct SessionFilter: Sendable {
    public var userID: String?
    public var sport: Sport?
    public var fromMs: Int64?
    public var toMs: Int64?
    public var minDurationS: Int?
    public var maxDurationS: Int?
    public var minDistanceM: Double?
    /// The last session of the previous page.
    public var after: (startedAtMs: Int64, id: Int64)?
    public var limit = 50

    public init() {}
}

/// An athlete: a user with sessions in the organization, and what their sessions add up to.
public struct Athlete: Sendable, Equatable {
    public var userID: String
    public var sessionCount: Int
    public var durationS: Int
    /// Of the sessions with a distance.
    public var distanceM: Double
    /// The sports they have sessions of, in the order of `Sport.allCases`.
    public var sports: [Sport]
    public var firstStartedAtMs: Int64
    public var lastStartedAtMs: Int64
}

/// Which athletes a list wants.
public struct AthleteFilter: Sendable {
    /// Only user ids that start with this (case matters, as in the ids).
    public var prefix: String?
    /// The last athlete of the previous page.
    public var after: (lastStartedAtMs: Int64, userID: String)?
    public var limit = 50

    public init() {}
}

/// What a batch adds to one user's summary.
private struct AthleteSums {
    var count = 0
    var durationS = 0
    var distanceM = 0.0
    var sports: Int64 = 0
    var firstMs: Int64
    var lastMs: Int64

    init(_ session: ExerciseSession) {
        firstMs = session.startedAtMs
        lastMs = session.startedAtMs
    }

    mutating func add(_ session: ExerciseSession) {
        count += 1
        durationS += session.durationS
        distanceM += session.distanceM ?? 0
        sports |= SessionSchema.bit(of: session.sport)
        firstMs = min(firstMs, session.startedAtMs)
        lastMs = max(lastMs, session.startedAtMs)
    }
}

/// What a roll-up row is of: one user's sessions of one sport in one slot.
private struct RollupKey: Hashable, Comparable {
    let user: String
    let slot: Int64
    let sport: Sport

    init(_ session: ExerciseSession) {
        user = session.userID
        slot = Rollup.slot(of: session.startedAtMs)
        sport = session.sport
    }

    static func < (left: RollupKey, right: RollupKey) -> Bool {
        (left.user, left.slot, left.sport.rawValue) < (right.user, right.slot, right.sport.rawValue)
    }
}

extension Array {
    /// Consecutive pieces of at most `size` elements: statements stay within the databases' limits on bound values.
    fileprivate func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

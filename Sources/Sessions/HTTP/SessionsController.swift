import Foundation
import HTTPTypes
import Hummingbird
import TurnoCore

/// `POST /api/v1/sessions`, `POST /api/v1/sessions/batch`, `GET /api/v1/sessions` (and `.csv`),
/// `GET|PATCH|DELETE /api/v1/sessions/{session}`, `GET /api/v1/sessions/users` (the athletes), `GET /api/v1/users/{user}/stats`.
struct SessionsController: Sendable {
    let store: SessionStore
    let commands: SessionCommands
    /// The time of day, from the server's clock.
    let clock: any ServerClock
    /// CSV exports count against `TURNO_RATE_EXPORTS`, as the audit trail's do.
    let exportLimit: RateLimitMiddleware

    static let batchLimit = 1_000

    /// A session as the API shows it.
    struct SessionView: Codable, Sendable, ResponseEncodable {
        var id: Int64
        var userId: String
        var sport: Sport
        var startedAt: Date
        var durationS: Int
        var distanceM: Double?
        var caloriesKcal: Double?
        var avgHrBpm: Int?
        var maxHrBpm: Int?
        var elevationGainM: Double?
        var notes: String?
        var externalId: String?
        var createdAt: Date

        init(_ session: ExerciseSession) {
            id = session.id
            userId = session.userID
            sport = session.sport
            startedAt = Date(milliseconds: session.startedAtMs)
            durationS = session.durationS
            distanceM = session.distanceM
            caloriesKcal = session.caloriesKcal
            avgHrBpm = session.avgHrBpm
            maxHrBpm = session.maxHrBpm
            elevationGainM = session.elevationGainM
            notes = session.notes
            externalId = session.externalID
            createdAt = Date(milliseconds: session.createdAtMs)
        }
    }

    struct Page: Codable, ResponseEncodable {
        var items: [SessionView]
        var nextCursor: String?
    }

    /// An athlete as the API shows them.
    struct AthleteView: Encodable, Sendable {
        var userId: String
        var sessionCount: Int
        var durationS: Int
        var distanceM: Double
        var firstSessionAt: Date
        var lastSessionAt: Date
        var sports: [Sport]

        init(_ athlete: Athlete) {
            userId = athlete.userID
            sessionCount = athlete.sessionCount
            durationS = athlete.durationS
            distanceM = athlete.distanceM
            firstSessionAt = Date(milliseconds: athlete.firstStartedAtMs)
            lastSessionAt = Date(milliseconds: athlete.lastStartedAtMs)
            sports = athlete.sports
        }
    }

    struct AthletePage: Encodable, ResponseEncodable {
        var items: [AthleteView]
        var nextCursor: String?
    }

    /// One item of a batch: its fields, or why they could not be read (a wrong type, say), without failing the rest.
    struct BatchItem: Decodable {
        var fields: Result<SessionFields, Problem>

        init(from decoder: any Decoder) throws {
            // Reading every key (for unknown fields and nulls) tells the body's check that all are known, so that one
            // item's mistake fails that item only: this item checks both itself.
            if let unknown = (try? decoder.container(keyedBy: NullProbe.AnyKey.self))?.allKeys
                .first(where: { SessionFields.CodingKeys(stringValue: $0.stringValue) == nil })
            {
                fields = .failure(.unprocessable("`\(Self.snakeCase(unknown.stringValue))` is not a field of a session"))
                return
            }
            if let path = try? NullProbe(from: decoder).nullPath {
                fields = .failure(.unprocessable(path.isEmpty ? "this item is null, not a session object" : NullField(path: path).detail))
                return
            }
            do {
                fields = .success(try SessionFields(from: decoder))
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
                let field = context.codingPath.last.map { Self.snakeCase($0.stringValue) } ?? "the session"
                fields = .failure(.unprocessable("\(field) has the wrong type"))
            } catch {
                fields = .failure(.unprocessable("this item is not a session object"))
            }
        }

        static func snakeCase(_ key: String) -> String {
            key.reduce(into: "") { result, character in
                if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
            }
        }
    }

    struct BatchRequest: Decodable {
        var sessions: [BatchItem]
    }

    struct BatchResult: Encodable {
        var index: Int
        var status: Int
        var session: SessionView?
        var problem: ProblemBody?
    }

    struct ProblemBody: Encodable {
        var title: String
        var status: Int
        var detail: String
    }

    struct BatchResponse: Encodable, ResponseEncodable {
        var created: Int
        var existing: Int
        var failed: Int
        var results: [BatchResult]
    }

    func add(to router: Router<TurnoRequestContext>) {
        let write = router.group("/api/v1/sessions").add(middleware: RequireAccess(.sessionsWrite))
        write.post(use: recordSession)
        write.post("/batch", use: recordBatch)
        write.patch("/:session", use: changeSession)
        write.delete("/:session", use: deleteSession)

        let read = router.group("/api/v1").add(middleware: RequireAccess(.sessionsRead)).add(middleware: exportLimit)
        read.get("/sessions", use: listSessions)
        read.get("/sessions.csv", use: exportSessions)
        // A fixed segment: the router prefers it to `/sessions/:session`, whose ids are numbers.
        read.get("/sessions/users", use: listAthletes)
        read.get("/sessions/:session", use: showSession)
        read.get("/users/:user/stats", use: userStatistics)
    }

    @Sendable func recordSession(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        var request = request
        let key = try await request.idempotencyKey(context: context)
        let fields = try await request.decode(as: SessionFields.self, context: context)
        let session = try validated(fields, nowMs: clock.nowMilliseconds())
        let outcome = try await commands.record([session], idempotencyKey: key, organizationID: context.requirePrincipal().organizationID)[0]
        if case .created = outcome {
            return try Response.json(SessionView(outcome.session), status: .created)
        }
        return try Response.json(SessionView(outcome.session), status: .ok)
    }

    @Sendable func recordBatch(_ request: Request, context: TurnoRequestContext) async throws -> BatchResponse {
        let batch = try await request.decode(as: BatchRequest.self, context: context)
        guard batch.sessions.count <= Self.batchLimit else {
            throw Problem.unprocessable("a batch takes at most \(Self.batchLimit) sessions, got \(batch.sessions.count)")
        }
        let checked = try checkedItems(batch.sessions)
        var results = checked.results
        let outcomes = try await commands.record(checked.valid.map(\.session), organizationID: context.requirePrincipal().organizationID)
        for (item, outcome) in zip(checked.valid, outcomes) {
            if case .created = outcome {
                results[item.index] = BatchResult(index: item.index, status: 201, session: SessionView(outcome.session))
            } else {
                results[item.index] = BatchResult(index: item.index, status: 200, session: SessionView(outcome.session))
            }
        }
        let all = results.map { $0! }
        return BatchResponse(
            created: all.filter { $0.status == 201 }.count,
            existing: all.filter { $0.status == 200 }.count,
            failed: all.filter { $0.status >= 400 }.count,
            results: all
        )
    }

    @Sendable func changeSession(_ request: Request, context: TurnoRequestContext) async throws -> SessionView {
        let fields = try await request.decode(as: SessionFields.self, context: context)
        let id = try sessionID(context)
        let now = clock.nowMilliseconds()
        guard let changed = try await commands.change(id: id, with: fields, nowMs: now, organizationID: context.requirePrincipal().organizationID)
        else { throw Problem.notFound("there is no session \(id)") }
        return SessionView(changed)
    }

    @Sendable func deleteSession(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let id = try sessionID(context)
        guard try await commands.delete(id: id, organizationID: context.requirePrincipal().organizationID) else {
            throw Problem.notFound("there is no session \(id)")
        }
        return Response(status: .noContent)
    }

    @Sendable func listSessions(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let filter = try SessionQuery.filter(request)
        if request.headers[.accept]?.contains("text/csv") == true { return try csv(filter, context: context) }
        let items = try await store.list(filter, organizationID: context.requirePrincipal().organizationID)
        let next = items.count == filter.limit ? items.last.map(SessionQuery.cursor(after:)) : nil
        return try Response.json(Page(items: items.map(SessionView.init), nextCursor: next))
    }

    @Sendable func exportSessions(_ request: Request, context: TurnoRequestContext) throws -> Response {
        try csv(try SessionQuery.filter(request), context: context)
    }

    @Sendable func listAthletes(_ request: Request, context: TurnoRequestContext) async throws -> AthletePage {
        let filter = try AthleteQuery.filter(request)
        let athletes = try await store.athletes(filter, organizationID: context.requirePrincipal().organizationID)
        let next = athletes.count == filter.limit ? athletes.last.map(AthleteQuery.cursor(after:)) : nil
        return AthletePage(items: athletes.map(AthleteView.init), nextCursor: next)
    }

    @Sendable func showSession(_ request: Request, context: TurnoRequestContext) async throws -> SessionView {
        let id = try sessionID(context)
        guard let session = try await store.session(id: id, organizationID: context.requirePrincipal().organizationID) else {
            throw Problem.notFound("there is no session \(id)")
        }
        return SessionView(session)
    }

    @Sendable func userStatistics(_ request: Request, context: TurnoRequestContext) async throws -> StatisticsView {
        guard let userID = context.parameters.get("user") else { throw Problem.notFound("name a user") }
        return try await statistics(userID: userID, request: request, organizationID: context.requirePrincipal().organizationID)
    }

    static func noAthlete(_ userID: String) -> String {
        "there is no athlete \(userID): no session was recorded for them"
    }

    private func validated(_ fields: SessionFields, nowMs: Int64) throws -> ExerciseSession {
        do {
            return try fields.validated(nowMs: nowMs)
        } catch {
            throw Problem.unprocessable(error.detail)
        }
    }

    /// The batch's items that can be recorded, with their index; `results` holds the problems of the others.
    private func checkedItems(_ items: [BatchItem]) throws -> (results: [BatchResult?], valid: [(index: Int, session: ExerciseSession)]) {
        let now = clock.nowMilliseconds()
        var results: [BatchResult?] = Array(repeating: nil, count: items.count)
        var valid: [(index: Int, session: ExerciseSession)] = []
        for (index, item) in items.enumerated() {
            do {
                valid.append((index, try validated(try item.fields.get(), nowMs: now)))
            } catch let problem as Problem {
                results[index] = BatchResult(
                    index: index,
                    status: Int(problem.status.code),
                    problem: .init(title: problem.title, status: Int(problem.status.code), detail: problem.detail)
                )
            }
        }
        return (results, valid)
    }

    private func sessionID(_ context: TurnoRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("session", as: Int64.self) else {
            throw Problem.notFound("there is no session \(context.parameters.get("session") ?? "")")
        }
        return id
    }

    /// The whole filtered list as CSV, read and written a thousand sessions at a time.
    private func csv(_ filter: SessionFilter, context: TurnoRequestContext) throws -> Response {
        let organizationID = try context.requirePrincipal().organizationID
        let store = self.store
        var first = filter
        first.limit = 1_000
        return CSV.streamedResponse(filename: "sessions.csv", header: SessionCSV.header, first: first) { page in
            let sessions = try await store.list(page, organizationID: organizationID)
            guard sessions.count == page.limit, let last = sessions.last else { return (sessions.map(SessionCSV.fields), nil) }
            var following = page
            following.after = (last.startedAtMs, last.id)
            return (sessions.map(SessionCSV.fields), following)
        }
    }

    private func statistics(userID: String, request: Request, organizationID: Int64) async throws -> StatisticsView {
        let parameters = request.uri.queryParameters
        let zoneName = parameters["tz"].map(String.init) ?? "UTC"
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw Problem.badRequest("`\(zoneName)` is not a time zone; use a name such as Europe/Rome")
        }
        let bucketName = parameters["bucket"].map(String.init) ?? "week"
        guard let bucket = Bucket(rawValue: bucketName) else { throw Problem.badRequest("bucket must be day, week or month, got `\(bucketName)`") }
        var sport: Sport?
        if let name = parameters["sport"] {
            guard let known = Sport(rawValue: String(name)) else { throw Problem.badRequest("`\(name)` is not a sport") }
            sport = known
        }
        let now = clock.nowMilliseconds()
        let today = LocalDate(ms: now, timeZone: timeZone)
        func date(_ name: String) throws -> LocalDate? {
            guard let text = parameters[Substring(name)] else { return nil }
            guard let date = LocalDate(String(text)) else { throw Problem.badRequest("\(name) must be a date such as 2026-11-21, got `\(text)`") }
            return date
        }
        let last = try date("to") ?? today
        let first = try date("from") ?? last.adding(days: bucket == .day ? -29 : bucket == .week ? -83 : -364)
        guard first <= last else { throw Problem.badRequest("from (\(first)) is after to (\(last))") }
        guard last.dayNumber - first.dayNumber < 3_700 else { throw Problem.badRequest("ask for at most ten years at a time") }
        let days = try await store.dayTotals(userID: userID, first: first, last: last, timeZone: timeZone, sport: sport, organizationID: organizationID)
        // Nothing in the range: zeros are the answer for an athlete, but someone without a single session is no athlete.
        if days.isEmpty, try await !store.isAthlete(userID: userID, organizationID: organizationID) {
            throw Problem.notFound(Self.noAthlete(userID))
        }
        let statistics = Statistics.compute(days: days, first: first, last: last, bucket: bucket, today: today)
        var view = StatisticsView(userID: userID, first: first, last: last, zone: zoneName, bucket: bucket, statistics: statistics)
        if let best = statistics.longestDuration {
            view.bests.longestDuration = try await store.session(
                of: best,
                byDistance: false,
                userID: userID,
                timeZone: timeZone,
                organizationID: organizationID
            )
            .map(SessionView.init)
        }
        if let best = statistics.longestDistance {
            view.bests.longestDistance = try await store.session(of: best, byDistance: true, userID: userID, timeZone: timeZone, organizationID: organizationID)
                .map(SessionView.init)
        }
        return view
    }
}

/// The answer of `GET /api/v1/users/{user}/stats`.
struct StatisticsView: Encodable, ResponseEncodable {
    struct Averages: Encodable {
        var speedKmh: Double?
        var paceSPerKm: Double?
        var heartRateBpm: Double?
    }

    struct SeriesPoint: Encodable {
        var start: String
        var count: Int
        var durationS: Int
        var distanceM: Double
        var caloriesKcal: Double
        var elevationGainM: Double

        init(_ point: Statistics.Point) {
            start = point.start
            count = point.totals.count
            durationS = point.totals.durationS
            distanceM = point.totals.distanceM
            caloriesKcal = point.totals.caloriesKcal
            elevationGainM = point.totals.elevationGainM
        }
    }

    struct HeartRatePoint: Encodable {
        var start: String
        var avgHrBpm: Double
    }

    struct Bests: Encodable {
        var longestDuration: SessionsController.SessionView?
        var longestDistance: SessionsController.SessionView?
        var biggestWeek: SeriesPoint?
    }

    struct Streaks: Encodable {
        var currentDays: Int
        var longestDays: Int
    }

    var userId: String
    var from: String
    var to: String
    var tz: String
    var bucket: Bucket
    var totals: Totals
    var averages: Averages
    var bySport: [String: Totals]
    var series: [SeriesPoint]
    var heartRate: [HeartRatePoint]
    var bests: Bests
    var streaks: Streaks

    init(userID: String, first: LocalDate, last: LocalDate, zone: String, bucket: Bucket, statistics: Statistics) {
        userId = userID
        from = first.description
        to = last.description
        tz = zone
        self.bucket = bucket
        totals = statistics.totals
        averages = Averages(speedKmh: statistics.speedKmh, paceSPerKm: statistics.paceSPerKm, heartRateBpm: statistics.heartRateBpm)
        bySport = Dictionary(uniqueKeysWithValues: statistics.bySport.map { ($0.key.rawValue, $0.value) })
        series = statistics.series.map(SeriesPoint.init)
        heartRate = statistics.series.compactMap { point in point.heartRateBpm.map { HeartRatePoint(start: point.start, avgHrBpm: $0) } }
        bests = Bests(biggestWeek: statistics.biggestWeek.map(SeriesPoint.init))
        streaks = Streaks(currentDays: statistics.currentStreakDays, longestDays: statistics.longestStreakDays)
    }
}

/// Query parameters of the list and its export, and the opaque cursor.
enum SessionQuery {
    static func filter(_ request: Request) throws -> SessionFilter {
        let parameters = request.uri.queryParameters
        var filter = SessionFilter()
        filter.userID = parameters["user_id"].map(String.init)
        if let name = parameters["sport"] {
            guard let sport = Sport(rawValue: String(name)) else {
                throw Problem.badRequest("`\(name)` is not a sport; use one of \(Sport.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.sport = sport
        }
        filter.fromMs = try time(parameters["from"], "from")
        filter.toMs = try time(parameters["to"], "to")
        filter.minDurationS = try number(parameters["min_duration_s"], "min_duration_s")
        filter.maxDurationS = try number(parameters["max_duration_s"], "max_duration_s")
        if let text = parameters["min_distance_m"] {
            guard let value = Double(String(text)), value >= 0 else { throw Problem.badRequest("min_distance_m must be a number of metres, got `\(text)`") }
            filter.minDistanceM = value
        }
        if let limit = try number(parameters["limit"], "limit") {
            guard (1...1_000).contains(limit) else { throw Problem.badRequest("limit must be between 1 and 1000, got \(limit)") }
            filter.limit = limit
        }
        if let cursor = parameters["cursor"] {
            guard let position = position(of: String(cursor)) else { throw Problem.badRequest("the cursor is not one this server gave out") }
            filter.after = position
        }
        return filter
    }

    /// `2026-11-21T07:30:00Z`, or a date (its midnight in UTC).
    static func time(_ text: Substring?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        if let ms = Timestamp.parse(String(text)) { return ms }
        if let date = LocalDate(String(text)) { return Int64(date.dayNumber) * 86_400_000 }
        throw Problem.badRequest("\(name) must be an ISO-8601 time or a date, such as 2026-11-21T07:30:00Z or 2026-11-21, got `\(text)`")
    }

    static func number(_ text: Substring?, _ name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(String(text)), value >= 0 else { throw Problem.badRequest("\(name) must be a whole number, got `\(text)`") }
        return value
    }

    static func cursor(after session: ExerciseSession) -> String {
        Data("\(session.startedAtMs).\(session.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func position(of cursor: String) -> (startedAtMs: Int64, id: Int64)? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ".")
        guard parts.count == 2, let time = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        return (time, id)
    }
}

/// Query parameters of the athlete list, and its opaque cursor.
enum AthleteQuery {
    static func filter(_ request: Request) throws -> AthleteFilter {
        let parameters = request.uri.queryParameters
        var filter = AthleteFilter()
        if let text = parameters["q"], !text.isEmpty {
            let prefix = String(text)
            guard prefix.count <= 100, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:@".contains($0)) }) else {
                throw Problem.badRequest("q is the start of a user_id: at most 100 letters, digits or -_.:@, got `\(prefix)`")
            }
            filter.prefix = prefix
        }
        if let limit = try SessionQuery.number(parameters["limit"], "limit") {
            guard (1...1_000).contains(limit) else { throw Problem.badRequest("limit must be between 1 and 1000, got \(limit)") }
            filter.limit = limit
        }
        if let cursor = parameters["cursor"] {
            guard let position = position(of: String(cursor)) else { throw Problem.badRequest("the cursor is not one this server gave out") }
            filter.after = position
        }
        return filter
    }

    static func cursor(after athlete: Athlete) -> String {
        Data("\(athlete.lastStartedAtMs).\(athlete.userID)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func position(of cursor: String) -> (lastStartedAtMs: Int64, userID: String)? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        // The time has no dot; the user id may.
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let time = Int64(parts[0]) else { return nil }
        return (time, String(parts[1]))
    }
}

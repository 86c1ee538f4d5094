import Foundation
import Testing
import TurnoCore

@testable import Sessions

/// The sessions API over HTTP: validation, idempotency, batches, filters and paging, statistics against a
/// brute-force recomputation, CSV.
@Suite("Sessions API")
struct SessionsAPITests {
    struct Stored: Decodable, Equatable {
        let id: Int64
        let user_id: String
        let sport: String
        let started_at: String
        let duration_s: Int
        let distance_m: Double?
        let avg_hr_bpm: Int?
        let external_id: String?
    }

    struct Page: Decodable {
        let items: [Stored]
        let next_cursor: String?
    }

    /// The answer of `POST /api/v1/sessions/batch`.
    struct Batch: Decodable {
        struct Problem: Decodable {
            let status: Int
            let detail: String
        }
        struct Result: Decodable {
            let index: Int
            let status: Int
            let session: Stored?
            let problem: Problem?
        }
        let created: Int
        let existing: Int
        let failed: Int
        let results: [Result]
    }

    /// A user's statistics, as much of them as the concurrency test counts.
    struct Counted: Decodable {
        struct Totals: Decodable { let count: Int }
        let totals: Totals
    }

    /// A user's statistics.
    struct Stats: Decodable {
        struct Totals: Decodable {
            let count: Int
            let duration_s: Int
            let distance_m: Double
            let calories_kcal: Double
            let elevation_gain_m: Double
        }
        struct Point: Decodable {
            let start: String
            let count: Int
            let duration_s: Int
            let distance_m: Double
        }
        struct Streaks: Decodable {
            let current_days: Int
            let longest_days: Int
        }
        struct Best: Decodable {
            let duration_s: Int
            let distance_m: Double?
        }
        struct Bests: Decodable {
            let longest_duration: Best?
            let longest_distance: Best?
        }
        let totals: Totals
        let by_sport: [String: Totals]
        let series: [Point]
        let streaks: Streaks
        let bests: Bests
    }

    static func iso(_ ms: Int64) -> String { Timestamp.format(milliseconds: ms) }

    static func post(_ admin: StaffClient, _ json: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        let response = try await admin.call(.POST, "/api/v1/sessions", json: json, headers: headers)
        return (response.status, response.body)
    }

    @Test("each bad input gets a 422 naming the field; nothing is stored", arguments: TestDatabase.available)
    func validation(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let now = SystemClock().nowMilliseconds()
            let start = Self.iso(now - 86_400_000)
            let cases: [(String, String)] = [
                (#"{"sport":"run","started_at":"\#(start)","duration_s":60}"#, "user_id is required"),
                (#"{"user_id":"u1","sport":"skydiving","started_at":"\#(start)","duration_s":60}"#, "`skydiving` is not a sport"),
                (#"{"user_id":"u1","sport":"run","started_at":"yesterday","duration_s":60}"#, "started_at `yesterday` is not an ISO-8601 time"),
                (#"{"user_id":"u1","sport":"run","started_at":"\#(Self.iso(now + 3_600_000))","duration_s":60}"#, "started_at is in the future"),
                (#"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":-5}"#, "duration_s must be between"),
                (#"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":600,"distance_m":-1}"#, "distance_m must not be negative"),
                (
                    #"{"user_id":"u1","sport":"swim","started_at":"\#(start)","duration_s":86400,"distance_m":100000}"#,
                    "distance_m 100 km is not a plausible swim"
                ),
                (#"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":600,"distance_m":9000}"#, "faster than any run"),
                (#"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":600,"avg_hr_bpm":400}"#, "avg_hr_bpm 400 bpm is not a human heart rate"),
                (#"{"user_id":"Mario Rossi","sport":"run","started_at":"\#(start)","duration_s":600}"#, "user_id must be"),
            ]
            for (body, detail) in cases {
                let response = try await Self.post(admin, body)
                #expect(response.status == 422 && response.body.contains(detail), "\(body) → \(response.body)")
            }
            let wrongType = try await Self.post(admin, #"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":"long"}"#)
            #expect((400...422).contains(wrongType.status) && wrongType.body.contains("duration"), "\(wrongType.body)")
            let list = try decodeJSON(Page.self, try await admin.call(.GET, "/api/v1/sessions").body)
            #expect(list.items.isEmpty)
        }
    }

    @Test("retries are safe with external_id or Idempotency-Key; batches answer per item", arguments: TestDatabase.available)
    func idempotencyAndBatch(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let start = Self.iso(SystemClock().nowMilliseconds() - 7_200_000)
            let body = #"{"user_id":"u1","sport":"ride","started_at":"\#(start)","duration_s":3600,"distance_m":30000,"external_id":"garmin-1"}"#
            let first = try await Self.post(admin, body)
            let again = try await Self.post(admin, body)
            let firstSession = try decodeJSON(Stored.self, first.body)
            #expect(first.status == 201 && again.status == 200)
            #expect(try decodeJSON(Stored.self, again.body) == firstSession)
            let keyed = #"{"user_id":"u1","sport":"walk","started_at":"\#(start)","duration_s":1200}"#
            let withKey = try await Self.post(admin, keyed, headers: [("Idempotency-Key", "k-1")])
            let retried = try await Self.post(admin, keyed, headers: [("Idempotency-Key", "k-1")])
            let keyedIDs = (try decodeJSON(Stored.self, withKey.body).id, try decodeJSON(Stored.self, retried.body).id)
            #expect(withKey.status == 201 && retried.status == 200 && keyedIDs.0 == keyedIDs.1)

            let batch = try await admin.call(
                .POST,
                "/api/v1/sessions/batch",
                json: """
                    {"sessions":[
                      {"user_id":"u2","sport":"run","started_at":"\(start)","duration_s":1800,"distance_m":5000},
                      {"user_id":"u2","sport":"run","started_at":"\(start)","duration_s":"x"},
                      {"user_id":"u2","sport":"lunge","started_at":"\(start)","duration_s":60},
                      {"user_id":"u1","sport":"ride","started_at":"\(start)","duration_s":3600,"external_id":"garmin-1"},
                      {"user_id":"u2","sport":"row","started_at":"\(start)","duration_s":900,"external_id":"x-9"},
                      {"user_id":"u2","sport":"row","started_at":"\(start)","duration_s":900,"external_id":"x-9"}
                    ]}
                    """
            )
            #expect(batch.status == 200)
            let answer = try decodeJSON(Batch.self, batch.body)
            #expect(answer.results.map(\.status) == [201, 422, 422, 200, 201, 200])
            #expect(answer.results[1].problem?.detail == "duration_s has the wrong type")
            #expect(answer.results[2].problem?.detail.contains("`lunge` is not a sport") == true)
            #expect((answer.created, answer.existing, answer.failed) == (2, 2, 2))
            #expect(answer.results[3].session?.id == firstSession.id)
            #expect(answer.results[5].session?.id == answer.results[4].session?.id)
            let tooMany = "{\"sessions\":[" + Array(repeating: #"{"user_id":"u"}"#, count: 1_001).joined(separator: ",") + "]}"
            #expect(try await admin.call(.POST, "/api/v1/sessions/batch", json: tooMany).status == 422)
        }
    }

    @Test("filters and keyset paging return exactly the matching sessions, once each, while sessions are added", arguments: TestDatabase.available)
    func pagingWhileInserting(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let now = SystemClock().nowMilliseconds()
            var random = SystemRandomNumberGenerator()
            func batch(_ count: Int, user: String) -> String {
                let items = (0..<count).map { _ in
                    let sport = ["run", "ride", "walk"].randomElement(using: &random)!
                    let duration = Int.random(in: 600...7_200, using: &random)
                    // Whole seconds only, and many sessions share a start, so the id must break ties in the order.
                    let started = now - Int64.random(in: 1...30, using: &random) * 86_400_000 + Int64.random(in: 0...3, using: &random) * 1000
                    return
                        #"{"user_id":"\#(user)","sport":"\#(sport)","started_at":"\#(Self.iso(started))","duration_s":\#(duration),"distance_m":\#(duration)}"#
                }
                return #"{"sessions":[\#(items.joined(separator: ","))]}"#
            }
            #expect(try await admin.call(.POST, "/api/v1/sessions/batch", json: batch(400, user: "a")).status == 200)
            #expect(try await admin.call(.POST, "/api/v1/sessions/batch", json: batch(100, user: "b")).status == 200)
            let everything = try decodeJSON(Page.self, try await admin.call(.GET, "/api/v1/sessions?user_id=a&limit=1000").body).items
            let expected = everything.filter { $0.sport == "run" && $0.duration_s >= 1_800 }

            // Page through runs of user a of at least 30 minutes while more sessions of both users arrive.
            let writer = Task {
                for _ in 0..<5 { _ = try await admin.call(.POST, "/api/v1/sessions/batch", json: batch(40, user: "a")) }
            }
            var seen: [Stored] = []
            var cursor: String?
            repeat {
                let page = try decodeJSON(
                    Page.self,
                    try await admin.call(
                        .GET,
                        "/api/v1/sessions?user_id=a&sport=run&min_duration_s=1800&limit=23" + (cursor.map { "&cursor=\($0)" } ?? "")
                    ).body
                )
                seen += page.items
                cursor = page.next_cursor
            } while cursor != nil
            try await writer.value
            #expect(Set(seen.map(\.id)).count == seen.count, "no session twice")
            #expect(Set(expected.map(\.id)).isSubset(of: Set(seen.map(\.id))), "no gap: every session stored before paging began")
            #expect(seen.allSatisfy { $0.user_id == "a" && $0.sport == "run" && $0.duration_s >= 1_800 })
            let order = seen.map { (Timestamp.parse($0.started_at)!, $0.id) }
            #expect(zip(order, order.dropFirst()).allSatisfy { $0 > $1 }, "newest first")

            #expect(try await admin.call(.GET, "/api/v1/sessions?limit=0").status == 400)
            #expect(try await admin.call(.GET, "/api/v1/sessions?cursor=nonsense").status == 400)
            #expect(try await admin.call(.GET, "/api/v1/sessions?from=soon").status == 400)
        }
    }

    @Test("concurrent batches into the same users' slots all succeed, and the roll-ups count every session", arguments: TestDatabase.available)
    func concurrentBatches(database: TestDatabase) async throws {
        try await withTwoNodes(database) { nodeA, nodeB in
            let clients = [try await StaffClient.admin(nodeA), try await StaffClient.admin(nodeB)]
            let day = SystemClock().nowMilliseconds() / 86_400_000 * 86_400_000 - 86_400_000
            // Eight batches at once, each touching the same 10 users × 4 slots in a different order.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for batch in 0..<8 {
                    group.addTask {
                        let items = (0..<200).map { index in
                            let user = (index * (batch + 1)) % 10
                            let started = day + Int64((index + batch) % 4) * 900_000
                            return #"{"user_id":"c\#(user)","sport":"run","started_at":"\#(Self.iso(started))","duration_s":600}"#
                        }.shuffled()
                        return try await clients[batch % 2].call(
                            .POST,
                            "/api/v1/sessions/batch",
                            json: #"{"sessions":[\#(items.joined(separator: ","))]}"#,
                            timeout: 60
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            var counted = 0
            for user in 0..<10 {
                let answer = try await clients[0].call(.GET, "/api/v1/users/c\(user)/stats?bucket=day")
                counted += try decodeJSON(Counted.self, answer.body).totals.count
            }
            #expect(counted == 8 * 200)
        }
    }

    /// Statistics worked out directly from the sessions, the slow way.
    static func bruteForce(
        _ sessions: [ExerciseSession],
        first: LocalDate,
        last: LocalDate,
        timeZone: TimeZone,
        bucket: Bucket
    ) -> (Totals, [String: Totals], [String: Totals], Int) {
        var totals = Totals()
        var bySport: [String: Totals] = [:]
        var byBucket: [String: Totals] = [:]
        var days: Set<LocalDate> = []
        for session in sessions {
            let day = LocalDate(ms: session.startedAtMs, timeZone: timeZone)
            guard day >= first, day <= last else { continue }
            let part = DayTotals(
                day: day,
                sport: session.sport,
                count: 1,
                durationS: session.durationS,
                distanceM: session.distanceM ?? 0,
                caloriesKcal: session.caloriesKcal ?? 0,
                elevationGainM: session.elevationGainM ?? 0,
                heartRateWeighted: 0,
                heartRateDurationS: 0,
                distanceDurationS: 0,
                maxDurationS: session.durationS,
                maxDistanceM: session.distanceM ?? 0
            )
            totals.add(part)
            bySport[session.sport.rawValue, default: Totals()].add(part)
            byBucket[day.start(of: bucket).description, default: Totals()].add(part)
            days.insert(day)
        }
        var longest = 0
        for day in days where !days.contains(day.adding(days: -1)) {
            var length = 1
            while days.contains(day.adding(days: length)) { length += 1 }
            longest = max(longest, length)
        }
        return (totals, bySport, byBucket, longest)
    }

    @Test("statistics equal a brute-force recomputation, after changes and deletions, in several time zones (property)", arguments: TestDatabase.available)
    func statisticsMatchBruteForce(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let store = SessionStore(storage: server.platform.storage)
            let commands = SessionCommands(store: store, storage: server.platform.storage)
            let organization: Int64 = 1
            let now = SystemClock().nowMilliseconds()
            var random = SystemRandomNumberGenerator()
            var sessions: [ExerciseSession] = []
            for _ in 0..<300 {
                let sport = Sport.allCases.randomElement(using: &random)!
                let duration = Int.random(in: 300...10_000, using: &random)
                sessions.append(
                    ExerciseSession(
                        id: 0,
                        userID: "athlete",
                        sport: sport,
                        startedAtMs: now - Int64.random(in: 0...(70 * 86_400_000), using: &random),
                        durationS: duration,
                        distanceM: Bool.random(using: &random) ? Double(duration) * Double.random(in: 0.5...2, using: &random) : nil,
                        caloriesKcal: Double(Int.random(in: 0...900, using: &random)),
                        avgHrBpm: Bool.random(using: &random) ? Int.random(in: 90...180, using: &random) : nil,
                        elevationGainM: Double(Int.random(in: 0...300, using: &random)),
                        createdAtMs: now
                    )
                )
            }
            sessions = try await commands.record(sessions, organizationID: organization).map(\.session)
            // Change some (time, sport, duration) and delete others, through the API like a client.
            for index in stride(from: 0, to: 60, by: 1) {
                let id = sessions[index].id
                if index.isMultiple(of: 3) {
                    #expect(try await admin.call(.DELETE, "/api/v1/sessions/\(id)").status == 204)
                } else {
                    let moved = now - Int64.random(in: 0...(70 * 86_400_000), using: &random)
                    let response = try await admin.call(
                        .PATCH,
                        "/api/v1/sessions/\(id)",
                        json: #"{"sport":"walk","started_at":"\#(Self.iso(moved))","duration_s":1234,"distance_m":1500}"#
                    )
                    #expect(response.status == 200)
                }
            }
            let remaining = try await store.list(
                {
                    var filter = SessionFilter()
                    filter.userID = "athlete"
                    filter.limit = 1_000
                    return filter
                }(),
                organizationID: organization
            )
            #expect(remaining.count == 300 - 20)

            for zone in ["UTC", "Europe/Rome", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati"] {
                for bucket in Bucket.allCases {
                    let timeZone = TimeZone(identifier: zone)!
                    let last = LocalDate(ms: now, timeZone: timeZone)
                    let first = last.adding(days: -45)
                    let answer = try await admin.call(.GET, "/api/v1/users/athlete/stats?from=\(first)&to=\(last)&tz=\(zone)&bucket=\(bucket.rawValue)")
                    #expect(answer.status == 200, "\(answer.body)")
                    let stats = try decodeJSON(Stats.self, answer.body)
                    let (totals, bySport, byBucket, longest) = Self.bruteForce(remaining, first: first, last: last, timeZone: timeZone, bucket: bucket)
                    #expect(stats.totals.count == totals.count && stats.totals.duration_s == totals.durationS, "\(zone) \(bucket)")
                    #expect(abs(stats.totals.distance_m - totals.distanceM) < 0.01 && abs(stats.totals.calories_kcal - totals.caloriesKcal) < 0.01)
                    #expect(Set(stats.by_sport.keys) == Set(bySport.keys))
                    for (sport, sums) in bySport { #expect(stats.by_sport[sport]?.count == sums.count && stats.by_sport[sport]?.duration_s == sums.durationS) }
                    // Zero-filled: one point per bucket, and each equals the sessions of its bucket.
                    let starts = first.buckets(through: last, by: bucket).map(\.description)
                    #expect(stats.series.map(\.start) == starts, "\(zone) \(bucket)")
                    for point in stats.series {
                        #expect(
                            point.count == byBucket[point.start]?.count ?? 0 && point.duration_s == byBucket[point.start]?.durationS ?? 0,
                            "\(zone) \(point.start)"
                        )
                    }
                    #expect(stats.streaks.longest_days == longest)
                    let inRange = remaining.filter { (first...last).contains(LocalDate(ms: $0.startedAtMs, timeZone: timeZone)) }
                    #expect(stats.bests.longest_duration?.duration_s == inRange.map(\.durationS).max(), "\(zone) \(bucket)")
                    #expect(stats.bests.longest_distance?.distance_m == inRange.compactMap(\.distanceM).max(), "\(zone) \(bucket)")
                }
            }
        }
    }

    @Test("CSV export streams every filtered session and reads back as the same sessions", arguments: TestDatabase.available)
    func csvRoundTrip(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let start = SystemClock().nowMilliseconds() - 3 * 86_400_000
            let items = (0..<1_500).map { index in
                #"{"user_id":"csv","sport":"run","started_at":"\#(Self.iso(start + Int64(index) * 60_000))","duration_s":\#(600 + index),"distance_m":\#(2000 + index),"notes":"lap, \"\#(index)\"\nok"}"#
            }
            for chunk in stride(from: 0, to: items.count, by: 1_000) {
                let body = #"{"sessions":[\#(items[chunk..<min(chunk + 1_000, items.count)].joined(separator: ","))]}"#
                #expect(try await admin.call(.POST, "/api/v1/sessions/batch", json: body).status == 200)
            }
            let export = try await admin.call(.GET, "/api/v1/sessions.csv?user_id=csv")
            #expect(export.status == 200 && export.headers["Content-Type"].first == "text/csv; charset=utf-8")
            let records = SessionCSV.records(export.body)
            #expect(records.first?.fields == SessionCSV.header)
            #expect(records.count == 1 + 1_500)
            let viaAccept = try await admin.call(.GET, "/api/v1/sessions?user_id=csv", headers: [("Accept", "text/csv")])
            #expect(viaAccept.body == export.body)

            let stored = try await SessionStore(storage: server.platform.storage).list(
                {
                    var f = SessionFilter()
                    f.userID = "csv"
                    f.limit = 1_000
                    return f
                }(),
                organizationID: 1
            )
            let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
            let now = SystemClock().nowMilliseconds()
            for record in records.dropFirst() {
                let fields = try SessionCSV.sessionFields(Dictionary(uniqueKeysWithValues: zip(SessionCSV.header, record.fields)))
                let session = try fields.validated(nowMs: now)
                guard let id = Int64(record.fields[0]), let original = byID[id] else { continue }
                #expect(session.userID == original.userID && session.startedAtMs == original.startedAtMs && session.durationS == original.durationS)
                #expect(session.distanceM == original.distanceM && session.notes == original.notes && session.externalID == "csv:\(id)")
            }
        }
    }
}

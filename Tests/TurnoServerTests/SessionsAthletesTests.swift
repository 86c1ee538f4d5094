import Foundation
import SQLKit
import Testing
import TurnoCore

@testable import Sessions

/// The athletes of the sessions module over HTTP: the list (`GET /api/v1/sessions/users`) against sums worked out
/// from the sessions themselves, its order, paging, prefix search and organizations; statistics of someone who is
/// no athlete (404) and of an athlete with nothing in range (zeros); the `/sessions` page and the athlete page.
@Suite("Sessions: athletes")
struct SessionsAthletesTests {
    struct Athlete: Decodable, Equatable {
        let user_id: String
        let session_count: Int
        let duration_s: Int
        let distance_m: Double
        let first_session_at: String
        let last_session_at: String
        let sports: [String]
    }

    struct AthletePage: Decodable {
        let items: [Athlete]
        let next_cursor: String?
    }

    struct Session: Decodable {
        let id: Int64
        let user_id: String
        let sport: String
        let started_at: String
        let duration_s: Int
        let distance_m: Double?
    }

    struct SessionPage: Decodable {
        let items: [Session]
        let next_cursor: String?
    }

    struct ProblemBody: Decodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
    }

    /// An athlete's statistics, as much of them as these tests read.
    struct Stats: Decodable {
        struct Totals: Decodable {
            let count: Int
            let duration_s: Int
            let distance_m: Double
        }
        struct Point: Decodable { let count: Int }
        let user_id: String
        let totals: Totals
        let series: [Point]
    }

    static let sports = Sport.allCases.map(\.rawValue)

    /// Posts sessions through the batch API and checks that all were created.
    static func post(_ client: StaffClient, _ sessions: [(user: String, sport: String, startedMs: Int64, durationS: Int, distanceM: Double?)]) async throws {
        for start in stride(from: 0, to: sessions.count, by: 1_000) {
            let items = sessions[start..<min(start + 1_000, sessions.count)].map { s in
                let distance = s.distanceM.map { #","distance_m":\#($0)"# } ?? ""
                return
                    #"{"user_id":"\#(s.user)","sport":"\#(s.sport)","started_at":"\#(Timestamp.format(milliseconds: s.startedMs))","duration_s":\#(s.durationS)\#(distance)}"#
            }
            let answer = try await client.call(.POST, "/api/v1/sessions/batch", json: #"{"sessions":[\#(items.joined(separator: ","))]}"#)
            struct Batch: Decodable {
                let created: Int
                let failed: Int
            }
            let batch = try decodeJSON(Batch.self, answer.body)
            #expect(answer.status == 200 && batch.failed == 0 && batch.created == items.count, "\(answer.body.prefix(500))")
        }
    }

    /// Every session the client's organization has, read through the sessions list.
    static func allSessions(_ client: StaffClient) async throws -> [Session] {
        var sessions: [Session] = []
        var cursor: String?
        repeat {
            let page = try decodeJSON(
                SessionPage.self,
                try await client.call(.GET, "/api/v1/sessions?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")).body
            )
            sessions += page.items
            cursor = page.next_cursor
        } while cursor != nil
        return sessions
    }

    /// The athlete list worked out the slow way: grouped by user, the most recent last session first, ties by user
    /// id, both descending (bytewise, as Swift compares these ASCII ids).
    static func expectedAthletes(_ sessions: [Session], prefix: String = "") -> [Athlete] {
        Dictionary(grouping: sessions.filter { $0.user_id.hasPrefix(prefix) }, by: \.user_id).map { user, theirs in
            let starts = theirs.map { Timestamp.parse($0.started_at)! }
            let sports = Set(theirs.map(\.sport))
            return Athlete(
                user_id: user,
                session_count: theirs.count,
                duration_s: theirs.map(\.duration_s).reduce(0, +),
                distance_m: theirs.compactMap(\.distance_m).reduce(0, +),
                first_session_at: Timestamp.format(milliseconds: starts.min()!),
                last_session_at: Timestamp.format(milliseconds: starts.max()!),
                sports: Self.sports.filter(sports.contains)
            )
        }
        .sorted { ($0.last_session_at, $0.user_id) > ($1.last_session_at, $1.user_id) }
    }

    /// Reads the whole list `limit` athletes at a time, following `next_cursor`.
    static func pageThrough(_ client: StaffClient, limit: Int, query: String = "") async throws -> (athletes: [Athlete], pages: Int) {
        var athletes: [Athlete] = []
        var cursor: String?
        var pages = 0
        repeat {
            let answer = try await client.call(.GET, "/api/v1/sessions/users?limit=\(limit)\(query)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(answer.status == 200, "\(answer.body)")
            let page = try decodeJSON(AthletePage.self, answer.body)
            #expect(page.items.count <= limit)
            athletes += page.items
            cursor = page.next_cursor
            pages += 1
        } while cursor != nil && pages < 500
        return (athletes, pages)
    }

    /// Equal but for the rounding of summed distances.
    static func same(_ left: [Athlete], _ right: [Athlete]) -> Bool {
        left.count == right.count
            && zip(left, right).allSatisfy { a, b in
                a.user_id == b.user_id && a.session_count == b.session_count && a.duration_s == b.duration_s && abs(a.distance_m - b.distance_m) < 0.001
                    && a.first_session_at == b.first_session_at && a.last_session_at == b.last_session_at && a.sports == b.sports
            }
    }

    static func describe(_ athletes: [Athlete]) -> String {
        athletes.map { "\($0.user_id) \($0.session_count) \($0.duration_s) \($0.distance_m) \($0.last_session_at) \($0.sports)" }.joined(separator: "\n")
    }

    @Test(
        "the athlete list has each user's sums, newest first, pages without gaps or repeats, filters by prefix, and stays in its organization; changes and deletions keep it exact",
        arguments: TestDatabase.available
    )
    func athleteList(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let hour: Int64 = 3_600_000
            // Whole seconds, as the API gives times back.
            let now = SystemClock().nowMilliseconds() / 1000 * 1000
            let before = try await admin.call(.GET, "/api/v1/sessions/users")
            #expect(try before.status == 200 && decodeJSON(AthletePage.self, before.body).items.isEmpty, "no athletes before any session")

            // 40 athletes p-000…p-039 with one to three sessions each, in turn sports, some without a distance; three
            // more whose last sessions start at the same second, so that the user id has to break the tie.
            var sessions: [(user: String, sport: String, startedMs: Int64, durationS: Int, distanceM: Double?)] = []
            for i in 0..<40 {
                for j in 0...(i % 3) {
                    let started = now - Int64((i * 37) % 97 + j * 50 + 1) * hour
                    sessions.append(
                        (
                            String(format: "p-%03d", i), Self.sports[(i + j) % Self.sports.count], started, 600 + i * 10 + j,
                            (i + j).isMultiple(of: 4) ? nil : Double(1_000 + i * 10 + j) + 0.5
                        )
                    )
                }
            }
            for user in ["tie-a", "tie-c", "tie-b"] {
                sessions.append((user, "run", now - 2 * hour, 1_800, 5_000))
                sessions.append((user, "swim", now - 300 * hour, 900, 1_000))
            }
            try await Self.post(admin, sessions)

            // A second organization with an athlete of the same id and one of its own.
            _ = try await server.platform.identity.createOrganization(name: "B", adminUsername: "admin-b", adminPassword: "admin-b-password")
            let adminB = try await StaffClient.login(server, "admin-b", "admin-b-password")
            try await Self.post(adminB, [("p-001", "row", now - hour, 3_000, 6_000), ("zed", "yoga", now - 5 * hour, 3_600, nil)])

            var stored = try await Self.allSessions(admin)
            #expect(stored.count == sessions.count)
            var expected = Self.expectedAthletes(stored)
            #expect(expected.count == 43)
            let whole = try await Self.pageThrough(admin, limit: 1_000)
            #expect(whole.pages == 1)
            #expect(Self.same(whole.athletes, expected), "got\n\(Self.describe(whole.athletes))\nexpected\n\(Self.describe(expected))")
            // The tie: same last start, so by user id, descending.
            let ties = whole.athletes.filter { $0.user_id.hasPrefix("tie-") }.map(\.user_id)
            #expect(ties == ["tie-c", "tie-b", "tie-a"])
            #expect(whole.athletes.first.map { Timestamp.parse($0.last_session_at)! } == sessions.map(\.startedMs).max())
            // Exactly the fields of the OpenAPI schema (additionalProperties: false there).
            let raw = try #require(
                try JSONSerialization.jsonObject(with: Data(try await admin.call(.GET, "/api/v1/sessions/users?limit=1").body.utf8)) as? [String: Any]
            )
            let first = try #require((raw["items"] as? [[String: Any]])?.first)
            #expect(Set(first.keys) == ["user_id", "session_count", "duration_s", "distance_m", "first_session_at", "last_session_at", "sports"])
            #expect(Set(raw.keys) == ["items", "next_cursor"])

            // Paging: the same list one at a time and seven at a time, every page boundary included (the tie too).
            for limit in [1, 7] {
                let paged = try await Self.pageThrough(admin, limit: limit)
                #expect(paged.athletes.map(\.user_id) == expected.map(\.user_id), "limit \(limit)")
                #expect(paged.pages == (expected.count + limit - 1) / limit + (expected.count % limit == 0 ? 1 : 0), "limit \(limit)")
            }

            // Prefix search: case matters, and paging keeps to the prefix.
            let tens = try await Self.pageThrough(admin, limit: 3, query: "&q=p-01")
            #expect(Self.same(tens.athletes, Self.expectedAthletes(stored, prefix: "p-01")))
            #expect(tens.athletes.count == 10 && tens.athletes.allSatisfy { $0.user_id.hasPrefix("p-01") })
            #expect(try await Self.pageThrough(admin, limit: 50, query: "&q=tie-").athletes.map(\.user_id) == ["tie-c", "tie-b", "tie-a"])
            #expect(try await Self.pageThrough(admin, limit: 50, query: "&q=p-039").athletes.map(\.user_id) == ["p-039"])
            #expect(try await Self.pageThrough(admin, limit: 50, query: "&q=P-0").athletes.isEmpty)
            #expect(try await Self.pageThrough(admin, limit: 50, query: "&q=zed").athletes.isEmpty, "another organization's athlete")
            #expect(try await Self.pageThrough(admin, limit: 50, query: "&q=").athletes.count == expected.count, "an empty q filters nothing")

            // The other organization sees its own two, with its own numbers for the shared id.
            let listB = try await Self.pageThrough(adminB, limit: 50).athletes
            #expect(listB.map(\.user_id) == ["p-001", "zed"])
            #expect(listB.first?.session_count == 1 && listB.first?.sports == ["row"] && listB.first?.distance_m == 6_000)
            #expect(whole.athletes.first { $0.user_id == "p-001" }?.session_count == 2)

            // Changes and deletions: a session moved to another athlete and to another sport and time, and every
            // session of one athlete deleted. The list follows, exactly.
            let ofTwo = stored.filter { $0.user_id == "p-002" }
            #expect(ofTwo.count == 3)
            #expect(try await admin.call(.PATCH, "/api/v1/sessions/\(ofTwo[0].id)", json: #"{"user_id":"p-003"}"#).status == 200)
            #expect(
                try await admin.call(
                    .PATCH,
                    "/api/v1/sessions/\(ofTwo[1].id)",
                    json: #"{"sport":"yoga","started_at":"\#(Timestamp.format(milliseconds: now - 900 * hour))"}"#
                ).status == 200
            )
            for session in stored where session.user_id == "p-004" {
                #expect(try await admin.call(.DELETE, "/api/v1/sessions/\(session.id)").status == 204)
            }
            stored = try await Self.allSessions(admin)
            expected = Self.expectedAthletes(stored)
            #expect(!expected.contains { $0.user_id == "p-004" } && expected.count == 42)
            let changed = try await Self.pageThrough(admin, limit: 1_000).athletes
            #expect(Self.same(changed, expected), "got\n\(Self.describe(changed))\nexpected\n\(Self.describe(expected))")
            #expect(changed.first { $0.user_id == "p-002" }?.first_session_at == Timestamp.format(milliseconds: now - 900 * hour))

            // The migration that brought the summaries filled them from the sessions already stored: run again on
            // empty summaries, it gives the same list.
            let backfill = try #require(SessionSchema.migrations.first { $0.version == 2 }?.statements(server.storage.kind).last)
            #expect(backfill.hasPrefix("INSERT INTO session_athletes"))
            try await server.storage.write { transaction in
                try await transaction.sql.raw("DELETE FROM session_athletes").run()
                try await transaction.sql.raw(SQLQueryString(backfill)).run()
            }
            let backfilled = try await Self.pageThrough(admin, limit: 1_000).athletes
            #expect(Self.same(backfilled, expected), "got\n\(Self.describe(backfilled))\nexpected\n\(Self.describe(expected))")
            #expect(try await Self.pageThrough(adminB, limit: 50).athletes.map(\.user_id) == ["p-001", "zed"])

            // Bad parameters are problems, not empty lists.
            for query in ["limit=0", "limit=1001", "cursor=nonsense", "q=a%20b", "q=caf%C3%A9", "q=" + String(repeating: "x", count: 101)] {
                let answer = try await admin.call(.GET, "/api/v1/sessions/users?\(query)")
                #expect(answer.status == 400 && answer.headers["Content-Type"].first == "application/problem+json", "\(query): \(answer.status) \(answer.body)")
            }
            // The path is the list's, not a session's (`/sessions/{session}` takes numbers).
            #expect(try await server.request(.GET, "/api/v1/sessions/users").status == 401)
        }
    }

    @Test("statistics of someone with no sessions are a 404 problem; an athlete with nothing in the range gets zeros", arguments: TestDatabase.available)
    func statisticsOfUnknownAthletes(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let now = SystemClock().nowMilliseconds() / 1000 * 1000
            try await Self.post(admin, [("amy", "run", now - 86_400_000, 1_800, 5_000), ("gone", "ride", now - 3_600_000, 3_600, 20_000)])
            _ = try await server.platform.identity.createOrganization(name: "B", adminUsername: "admin-b", adminPassword: "admin-b-password")
            let adminB = try await StaffClient.login(server, "admin-b", "admin-b-password")
            try await Self.post(adminB, [("only-b", "walk", now - 3_600_000, 1_200, 2_000)])

            func expectNoAthlete(_ user: String, _ client: StaffClient, query: String = "", sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let answer = try await client.call(.GET, "/api/v1/users/\(user)/stats\(query)")
                #expect(answer.status == 404, "\(user): \(answer.status) \(answer.body)", sourceLocation: sourceLocation)
                #expect(answer.headers["Content-Type"].first == "application/problem+json", sourceLocation: sourceLocation)
                let problem = try decodeJSON(ProblemBody.self, answer.body)
                #expect(problem.status == 404 && problem.title == "Not Found", sourceLocation: sourceLocation)
                #expect(problem.detail == "there is no athlete \(user): no session was recorded for them", sourceLocation: sourceLocation)
            }
            try await expectNoAthlete("ghost", admin)
            try await expectNoAthlete("ghost", admin, query: "?bucket=day&tz=Europe/Rome")
            // Another organization's athlete is no athlete here, and the other way round.
            try await expectNoAthlete("only-b", admin)
            try await expectNoAthlete("amy", adminB)
            // Parameters are still checked first.
            #expect(try await admin.call(.GET, "/api/v1/users/ghost/stats?bucket=year").status == 400)

            // A known athlete: nothing in an old range, or of a sport they never did, is zeros, not 404.
            for query in ["?from=2001-01-01&to=2001-03-31", "?sport=yoga", "?from=2001-01-01&to=2001-01-31&bucket=day&sport=swim"] {
                let answer = try await admin.call(.GET, "/api/v1/users/amy/stats\(query)")
                #expect(answer.status == 200, "\(query): \(answer.body)")
                let stats = try decodeJSON(Stats.self, answer.body)
                #expect(stats.user_id == "amy" && stats.totals.count == 0 && stats.totals.duration_s == 0 && stats.totals.distance_m == 0, "\(query)")
                #expect(!stats.series.isEmpty && stats.series.allSatisfy { $0.count == 0 }, "\(query)")
            }
            let amy = try decodeJSON(Stats.self, try await admin.call(.GET, "/api/v1/users/amy/stats").body)
            #expect(amy.totals.count == 1 && amy.totals.duration_s == 1_800)

            // Deleting an athlete's only session makes them no athlete again.
            let gone = try #require(try await Self.allSessions(admin).first { $0.user_id == "gone" })
            #expect(try await admin.call(.GET, "/api/v1/users/gone/stats").status == 200)
            #expect(try await admin.call(.DELETE, "/api/v1/sessions/\(gone.id)").status == 204)
            try await expectNoAthlete("gone", admin)
            #expect(try await Self.pageThrough(admin, limit: 10).athletes.map(\.user_id) == ["amy"])
        }
    }

    @Test("/sessions lists the athletes for signed-in staff; an unknown athlete's page is a 404 page that leads back to the list")
    func pages() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            try await Self.post(admin, [("runner-7", "run", SystemClock().nowMilliseconds() / 1000 * 1000 - 3_600_000, 1_800, 5_000)])

            let anonymous = try await server.request(.GET, "/sessions")
            #expect(anonymous.status == 303 && anonymous.headers["Location"].first == "/login?next=/sessions")
            // A bearer token is not a browser session.
            #expect(try await admin.call(.GET, "/sessions").status == 303)

            let cookie = try await pageSessionCookie(server, "admin", TestServer.adminPassword)
            for (language, search) in [("en", "Find an athlete"), ("it", "Trova un atleta")] {
                let page = try await server.request(.GET, "/sessions", headers: [("Cookie", cookie), ("Accept-Language", language)])
                #expect(page.status == 200 && page.headers["Content-Type"].first?.hasPrefix("text/html") == true)
                #expect(page.body.contains(#"<html lang="\#(language)">"#) && page.body.contains(search))
                #expect(page.body.contains(#"src="/sessions/assets/athletes.js"#) && page.body.contains(#"href="/sessions/assets/athletes.css"#))
                #expect(page.body.contains(#"<label for="athlete-q">"#) && page.body.contains(#"<th scope="col">"#))
                // Strict CSP: no inline script but the page data, no inline style.
                #expect(!page.body.contains("style=") && !page.body.contains("<style"))
                let scripts = page.body.components(separatedBy: "<script").dropFirst()
                #expect(scripts.allSatisfy { $0.hasPrefix(#" type="module" src="#) || $0.hasPrefix(#" type="application/json" id="page-data">"#) })
                let data = try PagesTests.pageData(page.body)
                #expect(data["page"] as? String == "athletes" && (data["me"] as? [String: Any])?["username"] as? String == "admin")
                // Every string the script asks for is there in this language.
                let script = try await server.request(.GET, "/sessions/assets/athletes.js").body
                let strings = try #require(data["strings"] as? [String: String])
                let keys = Self.stringKeys(in: script).filter { !$0.contains("${") }
                #expect(keys.count >= 5)
                // Also those the script puts together: counts by plural and the sports' names.
                let built =
                    ["sessions_athletes_shown_one", "sessions_athletes_shown_other", "sessions_count_one", "sessions_count_other"]
                    + Self.sports.map { "sessions_sport_\($0)" }
                for key in keys.union(built) {
                    #expect(strings[key] != nil, "\(language): no string \(key)")
                }
            }
            for (name, type) in [("athletes.js", "text/javascript"), ("athletes.css", "text/css")] {
                let asset = try await server.request(.GET, "/sessions/assets/\(name)")
                #expect(asset.status == 200 && asset.headers["Content-Type"].first?.hasPrefix(type) == true, "\(name)")
            }

            // A known athlete's page links back to the list; user.js's strings are there too.
            let known = try await server.request(.GET, "/sessions/users/runner-7", headers: [("Cookie", cookie)])
            #expect(known.status == 200 && known.body.contains(#"<a href="/sessions">All athletes</a>"#))
            let userStrings = try #require(try PagesTests.pageData(known.body)["strings"] as? [String: String])
            for key in Self.stringKeys(in: try await server.request(.GET, "/sessions/assets/user.js").body) where !key.contains("${") {
                #expect(userStrings[key] != nil, "no string \(key)")
            }

            // Someone with no sessions: 404, the styled error page, in the browser's language, with the way back.
            let unknown = try await server.request(.GET, "/sessions/users/ghost", headers: [("Cookie", cookie)])
            #expect(unknown.status == 404 && unknown.headers["Content-Type"].first?.hasPrefix("text/html") == true)
            #expect(unknown.body.contains("No athlete called ghost: no session has been recorded for them."))
            #expect(unknown.body.contains(#"href="/sessions""#) && unknown.body.contains(#"href="/assets/turno.css"#))
            let italian = try await server.request(.GET, "/sessions/users/ghost", headers: [("Cookie", cookie), ("Accept-Language", "it-IT")])
            #expect(italian.status == 404 && italian.body.contains(#"<html lang="it">"#) && italian.body.contains("Nessun atleta con id ghost"))
            // Markup in an id is shown as text.
            let marked = try await server.request(.GET, "/sessions/users/%3Cb%3Ex", headers: [("Cookie", cookie)])
            #expect(marked.status == 404 && !marked.body.contains("<b>x"))
            // Signed out, the page still sends to the sign-in first (it says nothing about who is an athlete).
            #expect(try await server.request(.GET, "/sessions/users/ghost").status == 303)
        }
    }

    /// The keys of `t('…')` calls in a page script.
    static func stringKeys(in script: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"\bt\(\s*[`'"]([^`'"]+)[`'"]"#)
        let range = NSRange(script.startIndex..., in: script)
        return Set(pattern.matches(in: script, range: range).compactMap { Range($0.range(at: 1), in: script).map { String(script[$0]) } })
    }
}

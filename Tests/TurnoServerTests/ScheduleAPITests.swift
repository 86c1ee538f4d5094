import Foundation
import NIOHTTP1
import Testing
import TurnoCore

@testable import Queues

/// Opening hours, shifts, counters that follow them, forecast and staffing, through the API.
@Suite("Schedule API: opening hours, shifts, forecast and staffing")
struct ScheduleAPITests {
    /// Tuesday 1 December 2026, 10:00 in Rome.
    static let tuesdayMorning = at("2026-12-01T09:00:00Z")
    static let weekdays = #"{"from":"08:30","to":"12:30"},{"from":"14:00","to":"17:00"}"#
    static let hours =
        #"{"opening_hours":{"week":{"mon":[\#(weekdays)],"tue":[\#(weekdays)],"wed":[\#(weekdays)],"thu":[\#(weekdays)],"fri":[\#(weekdays)],"sat":[{"from":"09:00","to":"12:00"}]},"special_days":[{"date":"2026-12-08","name":"Immacolata","hours":[]}],"last_ticket_minutes":15},"counters_follow_shifts":false}"#

    struct Hours: Decodable {
        struct Now: Decodable {
            let open: Bool
            let takes_tickets: Bool
            let closes_at: String?
            let opens_at: String?
            let special_day: String?
        }
        let counters_follow_shifts: Bool
        let now: Now?
    }

    struct Created: Decodable { let id: Int64 }

    /// Milliseconds of an ISO 8601 instant.
    static func at(_ text: String) -> Int64 { Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000) }

    struct Schedule: Decodable {
        struct Shift: Decodable {
            struct Person: Decodable {
                let id: Int64
                let username: String?
            }
            let date: String
            let from: String
            let to: String
            let starts_at: String
            let user: Person
            let counter: String?
            let swapped_from: Person?
        }
        let from: String
        let shifts: [Shift]
    }

    struct OwnShifts: Decodable {
        let now: Schedule.Shift?
        let shifts: [Schedule.Shift]
    }

    struct Snapshot: Decodable {
        struct Service: Decodable { let available: Bool }
        let opening: Hours.Now?
        let services: [Service]
    }

    static var identity: IdentitySettings {
        var identity = TestServer.identity
        identity.accessTokenSeconds = 60 * 86_400
        return identity
    }

    /// A Rome branch (1): services A (1) and B (2); counter 1 serves both, counter 2 serves A.
    static func setUp(_ server: TestServer) async throws -> StaffClient {
        let admin = try await StaffClient.admin(server)
        #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Rome","time_zone":"Europe/Rome"}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Parcels","prefix":"A","default_service_s":240}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Bills","prefix":"B"}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"Desk one","counter":"1","services":[1,2]}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"Desk two","counter":"2","services":[1]}"#).status == 201)
        return admin
    }

    @Test(
        "outside its hours a branch refuses kiosk and web tickets with when it opens; staff may still issue; bad hours change nothing",
        arguments: TestDatabase.available
    )
    func openingHours(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: Self.tuesdayMorning)
        try await withTestServer(database, identity: Self.identity, clock: clock) { server in
            let admin = try await Self.setUp(server)
            let set = try await admin.call(.PUT, "/api/v1/branches/1/hours", json: Self.hours)
            #expect(set.status == 200, "\(set.body)")
            let now = try #require(try decodeJSON(Hours.self, set.body).now)
            #expect(now.open && now.takes_tickets && now.closes_at == "2026-12-01T11:30:00.000Z")
            #expect(try await QueueAPITests.issue(server, service: 1).status == 201)

            // Lunch: closed until 14:00 Rome.
            clock.advance(by: .seconds(3 * 3_600))
            let refused = try await QueueAPITests.issue(server, service: 1)
            #expect(refused.status == 409 && refused.body.contains("it opens again at 2026-12-01T13:00:00.000Z"), "\(refused.body)")
            let branch = try await server.publicID(ofBranch: 1)
            let snapshot = try decodeJSON(Snapshot.self, try await server.request(.GET, "/api/v1/branches/\(branch)/snapshot").body)
            #expect(snapshot.opening?.takes_tickets == false && snapshot.opening?.opens_at == "2026-12-01T13:00:00.000Z")
            #expect(snapshot.services.allSatisfy { !$0.available })
            // Reception lets a customer in all the same.
            #expect(try await admin.call(.POST, "/api/v1/branches/1/tickets", json: #"{"service":1}"#).status == 201)
            // The last quarter of an hour before 17:00 takes no tickets.
            clock.advance(by: .seconds(3 * 3_600 + 50 * 60))
            let late = try await QueueAPITests.issue(server, service: 1)
            #expect(late.status == 409 && late.body.contains("stops 15 minutes before it closes, at 2026-12-01T16:00:00.000Z"), "\(late.body)")
            // The holiday, a week on.
            let toHoliday: Int64 = 6 * 86_400 + 18 * 3_600 + 10 * 60
            clock.advance(by: .seconds(toHoliday))
            let holiday = try await QueueAPITests.issue(server, service: 1)
            #expect(holiday.status == 409 && holiday.body.contains("closed for Immacolata"), "\(holiday.body)")

            // Bad input: a clear problem, and the hours stay as they were.
            let before = try await admin.call(.GET, "/api/v1/branches/1/hours").body
            let bad: [(String, Int, String)] = [
                (#"{"opening_hours":{"week":{"mon":[{"from":"08:00","to":"12:00"},{"from":"11:00","to":"13:00"}]}}}"#, 422, "overlap"),
                (#"{"opening_hours":{"week":{"mon":[{"from":"12:00","to":"08:00"}]}}}"#, 422, "must start before it ends"),
                (#"{"opening_hours":{"week":{"mon":[{"from":"8:00","to":"12:00"}]}}}"#, 400, "08:30"),
                (#"{"opening_hours":{"week":{"funday":[]}}}"#, 422, "funday"),
                (#"{"opening_hours":{"week":{},"special_days":[{"date":"2026-02-30","name":"X","hours":[]}]}}"#, 400, "2026-12-07"),
                (#"{"opening_hours":{"week":{},"last_ticket_minutes":500}}"#, 422, "last_ticket_minutes"),
                (#"{"opening_hours":null}"#, 422, "null"),
            ]
            for (body, status, detail) in bad {
                let response = try await admin.call(.PUT, "/api/v1/branches/1/hours", json: body)
                #expect(response.status == status && response.body.contains(detail), "\(body): \(response.status) \(response.body)")
                #expect(response.headers["Content-Type"].first?.hasPrefix("application/problem+json") == true)
            }
            #expect(try await admin.call(.GET, "/api/v1/branches/1/hours").body == before)
            // Leaving the flag out keeps it; changing the branch's name keeps the hours.
            #expect(try await admin.call(.PUT, "/api/v1/branches/1/hours", json: #"{"counters_follow_shifts":true}"#).status == 200)
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"name":"Roma centro"}"#).status == 200)
            #expect(try decodeJSON(Hours.self, try await admin.call(.PUT, "/api/v1/branches/1/hours", json: #"{}"#).body).counters_follow_shifts)
            // Removing the hours: tickets whenever the branch is open.
            #expect(try await QueueAPITests.issue(server, service: 1).status == 201)
            #expect(try await admin.audit("action=branch.hours_changed").count == 3)
        }
    }

    @Test("shifts: templates, weekly and one-off assignments, absences and swaps; conflicts refused with the reason", arguments: TestDatabase.available)
    func shifts(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: Self.tuesdayMorning)
        try await withTestServer(database, identity: Self.identity, clock: clock) { server in
            let admin = try await Self.setUp(server)
            #expect(try await admin.call(.PUT, "/api/v1/branches/1/hours", json: Self.hours).status == 200)
            let (anna, annaClient) = try await admin.createUser("anna", role: .operator, branches: [1])
            let (bruno, _) = try await admin.createUser("bruno", role: .operator, branches: [1])
            let (elsewhere, _) = try await admin.createUser("carla", role: .operator, branches: [])
            let morning = try decodeJSON(
                Created.self,
                try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-templates",
                    json: #"{"name":"Morning","from":"08:30","to":"12:30","weekdays":["mon","tue","wed","thu","fri"]}"#
                ).body
            ).id
            let late = try decodeJSON(
                Created.self,
                try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-templates",
                    json: #"{"name":"Late","from":"12:00","to":"17:00","weekdays":["mon","tue","wed","thu","fri"]}"#
                ).body
            ).id
            // Outside the hours, or on a closed day: refused.
            let outside = try await admin.call(
                .POST,
                "/api/v1/branches/1/shift-templates",
                json: #"{"name":"Dawn","from":"06:00","to":"09:00","weekdays":["mon"]}"#
            )
            #expect(outside.status == 422 && outside.body.contains("outside the opening hours of mon"), "\(outside.body)")
            let sunday = try await admin.call(
                .POST,
                "/api/v1/branches/1/shift-templates",
                json: #"{"name":"Sunday","from":"09:00","to":"12:00","weekdays":["sun"]}"#
            )
            #expect(sunday.status == 422 && sunday.body.contains("falls on sun"))

            func assign(_ user: Int64, _ template: Int64, queue: Int, first: String, last: String? = nil) async throws -> (Int, String) {
                let lastField = last.map { #","last_date":"\#($0)""# } ?? ""
                let response = try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-assignments",
                    json: #"{"template_id":\#(template),"user_id":\#(user),"queue_id":\#(queue),"first_date":"\#(first)"\#(lastField)}"#
                )
                return (response.status, response.body)
            }
            #expect(try await assign(anna, morning, queue: 1, first: "2026-11-30").0 == 201)
            #expect(try await assign(bruno, late, queue: 2, first: "2026-11-30").0 == 201)
            // Anna cannot also work the late shift (12:00–12:30 overlaps), even at another counter, nor from next week.
            let double = try await assign(anna, late, queue: 2, first: "2026-12-07", last: "2026-12-07")
            #expect(double.0 == 409 && double.1.contains("already works Morning (08:30–12:30) on 2026-12-07"), "\(double.1)")
            let notHere = try await assign(elsewhere, late, queue: 1, first: "2026-12-07")
            #expect(notHere.0 == 422 && notHere.1.contains("does not work at this branch"))
            #expect(try await assign(anna, late, queue: 1, first: "2026-12-07", last: "2026-12-01").0 == 422)
            #expect(try await assign(anna, 99, queue: 1, first: "2026-12-07").0 == 404)
            // Counter 2 only takes Bruno: Anna is not one of its operators.
            #expect(try await admin.call(.PATCH, "/api/v1/queues/2", json: #"{"operators":[\#(bruno)]}"#).status == 200)
            let notAllowed = try await assign(anna, morning, queue: 2, first: "2026-12-12", last: "2026-12-12")
            #expect(notAllowed.0 == 422 && notAllowed.1.contains("may not work counter 2"), "\(notAllowed.1)")

            // Bad input: a clear problem, and the plan stays as it was.
            let planBefore = try await admin.call(.GET, "/api/v1/branches/1/schedule").body
            let badBodies: [(String, String, Int)] = [
                ("shift-templates", #"{"name":"X","from":"25:00","to":"26:00","weekdays":["mon"]}"#, 400),
                ("shift-templates", #"{"name":"X","from":"09:00","to":"10:00","weekdays":["funday"]}"#, 400),
                ("shift-templates", #"{"name":"","from":"09:00","to":"10:00","weekdays":["mon"]}"#, 422),
                ("shift-templates", #"{"name":"X","from":"09:00","to":"10:00","weekdays":[]}"#, 422),
                ("shift-assignments", #"{"template_id":\#(late),"user_id":\#(bruno),"queue_id":99,"first_date":"2026-12-14"}"#, 404),
                ("shift-assignments", #"{"template_id":\#(late),"user_id":\#(bruno),"queue_id":1,"first_date":"2026-02-30"}"#, 400),
                ("absences", #"{"user_id":\#(anna),"first_date":"2026-12-09","last_date":"2026-12-01"}"#, 422),
                ("absences", #"{"user_id":\#(anna),"first_date":"2026-01-01","last_date":"2027-06-01"}"#, 422),
                ("shift-swaps", #"{"assignment_id":99,"date":"2026-12-02","substitute_id":1}"#, 404),
                ("shift-swaps", #"{"assignment_id":1,"date":"2026-12-05","substitute_id":1}"#, 422),
            ]
            for (route, body, status) in badBodies {
                let response = try await admin.call(.POST, "/api/v1/branches/1/\(route)", json: body)
                #expect(
                    response.status == status && response.headers["Content-Type"].first?.hasPrefix("application/problem+json") == true,
                    "\(body): \(response.status) \(response.body)"
                )
            }
            #expect(try await admin.call(.GET, "/api/v1/branches/1/schedule").body == planBefore)

            // Anna is away Wednesday and Thursday; Bruno cannot cover (he works 12:00), the admin can.
            let away = try await admin.call(
                .POST,
                "/api/v1/branches/1/absences",
                json: #"{"user_id":\#(anna),"first_date":"2026-12-02","last_date":"2026-12-03","reason":"Leave"}"#
            )
            #expect(away.status == 201)
            let clash = try await admin.call(
                .POST,
                "/api/v1/branches/1/shift-swaps",
                json: #"{"assignment_id":1,"date":"2026-12-02","substitute_id":\#(bruno)}"#
            )
            #expect(clash.status == 409 && clash.body.contains("one person cannot be at two counters at once"))
            let swap = try await admin.call(.POST, "/api/v1/branches/1/shift-swaps", json: #"{"assignment_id":1,"date":"2026-12-02","substitute_id":1}"#)
            #expect(swap.status == 201, "\(swap.body)")

            let week = try decodeJSON(Schedule.self, try await admin.call(.GET, "/api/v1/branches/1/schedule").body)
            #expect(week.from == "2026-11-30")
            let annas = week.shifts.filter { $0.user.id == anna }.map(\.date)
            #expect(annas == ["2026-11-30", "2026-12-01", "2026-12-04"])
            let covered = try #require(week.shifts.first { $0.date == "2026-12-02" && $0.from == "08:30" })
            #expect(covered.user.username == "admin" && covered.swapped_from?.id == anna && covered.starts_at == "2026-12-02T07:30:00.000Z")
            #expect(week.shifts.count == 9)

            // Anna's own view: her shift now at counter 1.
            let own = try decodeJSON(OwnShifts.self, try await annaClient.call(.GET, "/api/v1/me/shifts").body)
            #expect(own.now?.counter == "1" && own.now?.from == "08:30")
            #expect(own.shifts.map(\.date) == ["2026-12-01", "2026-12-04", "2026-12-07"])
            // Operators read only their own.
            #expect(try await annaClient.call(.GET, "/api/v1/branches/1/schedule").status == 403)
            #expect(
                try await annaClient.call(
                    .POST,
                    "/api/v1/branches/1/absences",
                    json: #"{"user_id":\#(anna),"first_date":"2026-12-09","last_date":"2026-12-09"}"#
                ).status == 403
            )

            // Removing: a template in use cannot go; a started assignment ends yesterday; the swap and absence go.
            let inUse = try await admin.call(.DELETE, "/api/v1/shift-templates/\(morning)")
            #expect(inUse.status == 409 && inUse.body.contains("used by 1 assignments"))
            #expect(try await admin.call(.DELETE, "/api/v1/shift-swaps/1").status == 204)
            #expect(try await admin.call(.DELETE, "/api/v1/absences/1").status == 204)
            #expect(try await admin.call(.DELETE, "/api/v1/shift-assignments/1").status == 204)
            let after = try decodeJSON(Schedule.self, try await admin.call(.GET, "/api/v1/branches/1/schedule").body)
            #expect(after.shifts.filter { $0.user.id == anna }.map(\.date) == ["2026-11-30"])
            #expect(try await admin.call(.DELETE, "/api/v1/shift-templates/\(morning)").status == 204)
            #expect(try await admin.call(.DELETE, "/api/v1/shift-templates/\(morning)").status == 404)
            #expect(try await admin.call(.DELETE, "/api/v1/shift-assignments/77").status == 404)
            for action in ["shift_template.created", "shift.assigned", "absence.recorded", "shift.swapped", "shift.unassigned", "shift_template.removed"] {
                #expect(try await admin.audit("action=\(action)").count >= 1, "\(action)")
            }
        }
    }

    @Test("two managers assigning the same person at the same time: one is planned, the other told why", arguments: TestDatabase.available)
    func concurrentAssignments(database: TestDatabase) async throws {
        try await withTwoNodes(database) { nodeA, nodeB in
            let admin = try await Self.setUp(nodeA)
            let (anna, _) = try await admin.createUser("anna", role: .operator, branches: [1])
            let (_, managerA) = try await admin.createUser("mara", role: .manager, branches: [1])
            _ = try await admin.createUser("nico", role: .manager, branches: [1], password: "nico-password-1")
            let managerOnB = try await StaffClient.login(nodeB, "nico", "nico-password-1")
            #expect(
                try await admin.call(.POST, "/api/v1/branches/1/shift-templates", json: #"{"name":"Day","from":"09:00","to":"17:00","weekdays":["mon","tue"]}"#)
                    .status == 201
            )
            for round in 0..<6 {
                let date = LocalDate("2027-01-04")!.adding(days: 7 * round)
                let first = #"{"template_id":1,"user_id":\#(anna),"queue_id":1,"first_date":"\#(date)","last_date":"\#(date)"}"#
                let second = first.replacingOccurrences(of: #""queue_id":1"#, with: #""queue_id":2"#)
                async let firstAnswer = managerA.call(.POST, "/api/v1/branches/1/shift-assignments", json: first)
                async let secondAnswer = managerOnB.call(.POST, "/api/v1/branches/1/shift-assignments", json: second)
                let statuses = [try await firstAnswer.status, try await secondAnswer.status].sorted()
                #expect(statuses == [201, 409], "round \(round): \(statuses)")
            }
            let plan = try decodeJSON(Schedule.self, try await admin.call(.GET, "/api/v1/branches/1/schedule?from=2027-01-04&days=42").body)
            #expect(plan.shifts.count == 6)
        }
    }

    @Test(
        "counters open when a shift starts and close when the last one ends, moving their tickets; the dashboard compares planned and signed in",
        arguments: TestDatabase.available
    )
    func countersFollowShifts(database: TestDatabase) async throws {
        // Tuesday 08:50 in Rome.
        let clock = ManualClock(nowMs: Self.tuesdayMorning - 70 * 60_000)
        try await withTestServer(database, identity: Self.identity, clock: clock) { server in
            let admin = try await Self.setUp(server)
            let (anna, annaClient) = try await admin.createUser("anna", role: .operator, branches: [1])
            #expect(
                try await admin.call(
                    .PUT,
                    "/api/v1/branches/1/hours",
                    json: Self.hours.replacingOccurrences(of: #""counters_follow_shifts":false"#, with: #""counters_follow_shifts":true"#)
                ).status == 200
            )
            #expect(try await admin.call(.POST, "/api/v1/queues/2/close").status == 200)
            #expect(
                try await admin.call(.POST, "/api/v1/branches/1/shift-templates", json: #"{"name":"Nine","from":"09:00","to":"10:00","weekdays":["tue"]}"#)
                    .status == 201
            )
            #expect(
                try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-assignments",
                    json: #"{"template_id":1,"user_id":\#(anna),"queue_id":2,"first_date":"2026-12-01"}"#
                ).status == 201
            )
            let store = QueueStore(storage: server.storage)
            #expect(try await store.state(of: 1, organizationID: nil).queues[2]?.state == .closed)
            // 09:00: counter 2 opens by itself. The clock steps on a minute at a time, as the keeper wakes each minute.
            clock.advance(by: .seconds(10 * 60))
            try await eventually {
                if try await store.state(of: 1, organizationID: nil).queues[2]?.state == .open { return true }
                clock.advance(by: .seconds(60))
                return false
            }
            let dashboard = try decodeJSON(JSONValue.self, try await admin.call(.GET, "/api/v1/branches/1/dashboard").body)
            guard case .object(let fields) = dashboard, case .array(let staff) = fields["staff_now"] else {
                Issue.record("no staff_now in \(dashboard)")
                return
            }
            #expect(staff.count == 1 && fields["planned_now"] == .number(1) && fields["signed_in_now"] == .number(1))
            _ = annaClient
            // Tickets at counter 2 when the shift ends move to counter 1.
            var waiting: [Int64] = []
            for _ in 0..<4 { waiting.append(try #require(try await QueueAPITests.issue(server, service: 1).ticket).id) }
            try await eventually {
                if try await store.state(of: 1, organizationID: nil).queues[2]?.state == .closed { return true }
                clock.advance(by: .seconds(5 * 60))
                return false
            }
            let state = try await store.state(of: 1, organizationID: nil)
            #expect(waiting.allSatisfy { state.tickets[$0]?.queueID == 1 })
            let trail = try await admin.audit("action=queue.closed")
            #expect(trail.contains { $0.actor == "shift schedule" })
        }
    }

    @Test(
        "the forecast follows a branch's weekly pattern within 10% a day; staffing shows needed against scheduled counters",
        arguments: TestDatabase.available
    )
    func forecastAndStaffing(database: TestDatabase) async throws {
        // Monday 7 December 2026, 07:00 in Rome: eight weeks of history behind it.
        let monday = LocalDate("2026-12-07")!
        let clock = ManualClock(nowMs: Self.at("2026-12-07T06:00:00Z"))
        try await withTestServer(database, identity: Self.identity, clock: clock) { server in
            let admin = try await Self.setUp(server)
            var random = SystemRandomNumberGenerator()
            let start = monday.adding(days: -56)
            let history = SyntheticArrivals.history(weeks: 9, start: start, growthPerWeek: 0, random: &random)
            try await SyntheticArrivals.write(
                history.filter { $0.key < monday },
                store: QueueStore(storage: server.storage),
                branchID: 1,
                serviceIDs: [1, 2],
                timeZone: "Europe/Rome",
                serviceSeconds: 300
            )
            struct Forecast: Decodable {
                struct Day: Decodable {
                    let date: String
                    let total: [Double]
                }
                let method: String
                let days: [Day]
            }
            let forecast = try decodeJSON(Forecast.self, try await admin.call(.GET, "/api/v1/branches/1/forecast").body)
            #expect(forecast.days.count == 7 && forecast.days.first?.date == "2026-12-07" && forecast.method.contains("same-slot average"))
            var errors: [Double] = []
            for day in forecast.days {
                let date = try #require(LocalDate(day.date))
                guard SyntheticArrivals.isOpen(date) else {
                    #expect(day.total.reduce(0, +) == 0)
                    continue
                }
                let expected = (0..<48).reduce(0.0) { $0 + SyntheticArrivals.expected(date, slot: $1, week: 8, growthPerWeek: 0) }
                errors.append(abs(day.total.reduce(0, +) - expected) / expected)
                // The morning peak (10:00–12:00) stands well above the first hours (08:30–10:00): twice as many, in the pattern.
                if date.weekday != .sat {
                    #expect(day.total[20...23].reduce(0, +) > 1.5 * day.total[17...19].reduce(0, +), "\(day.date): \(day.total)")
                }
            }
            #expect(errors.reduce(0, +) / Double(errors.count) <= 0.10, "\(errors)")

            // Counters: one planned all day Monday at counter 1, none at counter 2.
            let (anna, _) = try await admin.createUser("anna", role: .operator, branches: [1])
            #expect(
                try await admin.call(.POST, "/api/v1/branches/1/shift-templates", json: #"{"name":"All day","from":"08:30","to":"17:00","weekdays":["mon"]}"#)
                    .status == 201
            )
            #expect(
                try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-assignments",
                    json: #"{"template_id":1,"user_id":\#(anna),"queue_id":1,"first_date":"2026-12-07"}"#
                ).status == 201
            )
            struct Staffing: Decodable {
                struct Slot: Decodable {
                    let date: String
                    let time: String
                    let arrivals: Double
                    let needed: Int
                    let scheduled: Int
                    let gap: Int
                }
                let service_level: Double
                let slots: [Slot]
            }
            let staffing = try decodeJSON(Staffing.self, try await admin.call(.GET, "/api/v1/branches/1/staffing?days=1&service_level=0.9").body)
            #expect(staffing.service_level == 0.9)
            let peak = try #require(staffing.slots.first { $0.time == "10:30" })
            // About 30 arrivals in the half hour, 5 minutes each (the measured service time): 5 erlangs, so more than one counter.
            #expect(peak.arrivals > 20 && peak.needed >= 6 && peak.scheduled == 1 && peak.gap == peak.needed - 1, "\(peak)")
            #expect(staffing.slots.allSatisfy { $0.date == "2026-12-07" && $0.gap == $0.needed - $0.scheduled })
            #expect(!staffing.slots.contains { $0.time == "03:00" })
            // With opening hours, a holiday and the hours outside them expect nobody.
            #expect(try await admin.call(.PUT, "/api/v1/branches/1/hours", json: Self.hours).status == 200)
            let closed = try decodeJSON(Forecast.self, try await admin.call(.GET, "/api/v1/branches/1/forecast").body)
            let holiday = try #require(closed.days.first { $0.date == "2026-12-08" })
            #expect(holiday.total.allSatisfy { $0 == 0 })
            let tuesday = try #require(forecast.days.first { $0.date == "2026-12-08" })
            #expect(tuesday.total.reduce(0, +) > 100)
            let wednesday = try #require(closed.days.first { $0.date == "2026-12-09" })
            // 12:30–14:00 is the lunch break: the pattern's arrivals then are not expected.
            #expect(wednesday.total[25...27].allSatisfy { $0 == 0 } && wednesday.total[24] > 0 && wednesday.total[28] > 0)
            for query in ["service_level=2", "days=0", "days=29", "from=2026-13-01", "weeks=5", "from=1970-01-01", "from=9999-12-01"] {
                let response = try await admin.call(.GET, "/api/v1/branches/1/staffing?\(query)")
                #expect(response.status == 400, "\(query): \(response.status)")
            }
        }
    }

    @Test("another organization's admin finds none of it; a manager of another branch is refused")
    func isolation() async throws {
        try await withTestServer { server in
            let admin = try await Self.setUp(server)
            #expect(
                try await admin.call(.POST, "/api/v1/branches/1/shift-templates", json: #"{"name":"Day","from":"09:00","to":"17:00","weekdays":["mon"]}"#)
                    .status == 201
            )
            #expect(
                try await admin.call(
                    .POST,
                    "/api/v1/branches/1/shift-assignments",
                    json: #"{"template_id":1,"user_id":1,"queue_id":1,"first_date":"2026-12-07"}"#
                ).status == 201
            )
            #expect(
                try await admin.call(.POST, "/api/v1/branches/1/absences", json: #"{"user_id":1,"first_date":"2027-12-07","last_date":"2027-12-08"}"#).status
                    == 201
            )
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"North"}"#).status == 201)
            let (_, manager) = try await admin.createUser("mara", role: .manager, branches: [2])
            _ = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other", adminPassword: "other-password-1")
            let other = try await StaffClient.login(server, "other", "other-password-1")
            let routes: [(HTTPMethod, String, String?)] = [
                (.GET, "/api/v1/branches/1/hours", nil),
                (.PUT, "/api/v1/branches/1/hours", #"{}"#),
                (.GET, "/api/v1/branches/1/schedule", nil),
                (.POST, "/api/v1/branches/1/shift-templates", #"{"name":"X","from":"09:00","to":"10:00","weekdays":["mon"]}"#),
                (.POST, "/api/v1/branches/1/shift-assignments", #"{"template_id":1,"user_id":1,"queue_id":1,"first_date":"2026-12-14"}"#),
                (.POST, "/api/v1/branches/1/absences", #"{"user_id":1,"first_date":"2027-01-07","last_date":"2027-01-08"}"#),
                (.POST, "/api/v1/branches/1/shift-swaps", #"{"assignment_id":1,"date":"2026-12-07","substitute_id":1}"#),
                (.GET, "/api/v1/branches/1/forecast", nil),
                (.GET, "/api/v1/branches/1/staffing", nil),
                (.DELETE, "/api/v1/shift-templates/1", nil),
                (.DELETE, "/api/v1/shift-assignments/1", nil),
                (.DELETE, "/api/v1/absences/1", nil),
            ]
            for (method, path, body) in routes {
                let outsider = try await other.call(method, path, json: body)
                #expect(outsider.status == 404, "\(method) \(path): \(outsider.status) \(outsider.body)")
                // A row of another organization is missing as itself, without naming its branch.
                #expect(method != .DELETE || !outsider.body.contains("there is no branch"), "\(path): \(outsider.body)")
                let neighbour = try await manager.call(method, path, json: body)
                #expect(neighbour.status == 403, "\(method) \(path): \(neighbour.status)")
            }
            #expect(try decodeJSON(OwnShifts.self, try await other.call(.GET, "/api/v1/me/shifts").body).shifts.isEmpty)
            // Nothing of it changed.
            #expect(try decodeJSON(Schedule.self, try await admin.call(.GET, "/api/v1/branches/1/schedule?from=2026-12-07").body).shifts.count == 1)
        }
    }
}

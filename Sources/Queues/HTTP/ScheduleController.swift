import Foundation
import Hummingbird
import TurnoCore

/// Opening hours, shifts and the staffing they are planned against. Managers (their branches) and admins:
/// `GET|PUT /api/v1/branches/{branch}/hours`, `GET …/schedule` (the week view), `POST …/shift-templates`,
/// `…/shift-assignments`, `…/absences`, `…/shift-swaps` and `DELETE` of each by id, `GET …/forecast` and
/// `GET …/staffing`. Everybody: `GET /api/v1/me/shifts`.
struct ScheduleController: Sendable {
    let store: QueueStore
    let commands: ScheduleCommands
    let directory: StaffDirectory
    let clock: any ServerClock

    // MARK: Bodies

    struct HoursRequest: Decodable {
        /// Absent: the branch has no hours and takes tickets whenever it is open.
        var openingHours: OpeningHours?
        var countersFollowShifts: Bool?
    }

    struct TemplateRequest: Decodable {
        var name: String
        var from: TimeOfDay
        var to: TimeOfDay
        var weekdays: [Weekday]
    }

    struct AssignmentRequest: Decodable {
        var templateId: ShiftTemplateID
        var userId: StaffID
        var queueId: QueueID
        var firstDate: LocalDate
        /// Absent: open-ended. The same as `first_date`: a one-off.
        var lastDate: LocalDate?
    }

    struct AbsenceRequest: Decodable {
        var userId: StaffID
        var firstDate: LocalDate
        var lastDate: LocalDate
        var reason: String?
    }

    struct SwapRequest: Decodable {
        var assignmentId: ShiftAssignmentID
        var date: LocalDate
        var substituteId: StaffID
    }

    // MARK: Views

    struct OpeningNow: Codable, Sendable {
        var open: Bool
        var takesTickets: Bool
        var closesAt: Date?
        var opensAt: Date?
        var specialDay: String?

        init(_ status: OpeningStatus) {
            open = status.isOpen
            takesTickets = status.takesTickets
            closesAt = status.closesAtMs.map(Date.init(milliseconds:))
            opensAt = status.nextOpeningMs.map(Date.init(milliseconds:))
            specialDay = status.specialDay
        }
    }

    struct HoursView: Codable, Sendable, ResponseEncodable {
        var branchId: BranchID
        var timeZone: String
        var openingHours: OpeningHours?
        var countersFollowShifts: Bool
        /// Only with opening hours.
        var now: OpeningNow?
    }

    struct TemplateView: Codable, Sendable, ResponseEncodable {
        var id: ShiftTemplateID
        var name: String
        var from: TimeOfDay
        var to: TimeOfDay
        var weekdays: [Weekday]

        init(_ template: ShiftTemplate) {
            (id, name, from, to) = (template.id, template.name, template.hours.from, template.hours.to)
            weekdays = Weekday.allCases.filter(template.weekdays.contains)
        }
    }

    struct AssignmentView: Codable, Sendable, ResponseEncodable {
        var id: ShiftAssignmentID
        var templateId: ShiftTemplateID
        var user: StaffName
        var queueId: QueueID
        var counter: String?
        var firstDate: LocalDate
        var lastDate: LocalDate?
    }

    struct AbsenceView: Codable, Sendable, ResponseEncodable {
        var id: AbsenceID
        var user: StaffName
        var firstDate: LocalDate
        var lastDate: LocalDate
        var reason: String
    }

    struct SwapView: Codable, Sendable, ResponseEncodable {
        var id: ShiftSwapID
        var assignmentId: ShiftAssignmentID
        var date: LocalDate
        var substitute: StaffName
    }

    struct ShiftView: Codable, Sendable {
        var date: LocalDate
        var branchId: BranchID
        var templateId: ShiftTemplateID
        var template: String?
        var from: TimeOfDay
        var to: TimeOfDay
        var startsAt: Date
        var endsAt: Date
        var user: StaffName
        var queueId: QueueID
        var counter: String?
        var assignmentId: ShiftAssignmentID
        /// Whose shift it was, when a colleague works it instead.
        var swappedFrom: StaffName?
    }

    struct ScheduleView: Codable, Sendable, ResponseEncodable {
        var branchId: BranchID
        var timeZone: String
        var from: LocalDate
        var days: Int
        var openingHours: OpeningHours?
        var templates: [TemplateView]
        var assignments: [AssignmentView]
        var absences: [AbsenceView]
        var swaps: [SwapView]
        var shifts: [ShiftView]
    }

    struct OwnShifts: Codable, Sendable, ResponseEncodable {
        var from: LocalDate
        var days: Int
        /// The shift under way now, if any: the console opens its counter.
        var now: ShiftView?
        var shifts: [ShiftView]
    }

    struct ServiceForecast: Codable, Sendable {
        var id: ServiceID
        var name: String
        /// Expected arrivals per half hour, from 00:00.
        var arrivals: [Double]
    }

    struct DayForecast: Codable, Sendable {
        var date: LocalDate
        var total: [Double]
        var services: [ServiceForecast]
    }

    struct ForecastView: Codable, Sendable, ResponseEncodable {
        var branchId: BranchID
        var method: String
        var historyWeeks: Int
        var slotMinutes: Int
        var days: [DayForecast]
    }

    struct ServiceTimes: Codable, Sendable {
        var id: ServiceID
        var name: String
        var serviceS: Int
        var targetWaitS: Int
    }

    struct Slot: Codable, Sendable {
        var date: LocalDate
        var time: TimeOfDay
        var startsAt: Date
        var arrivals: Double
        var needed: Int
        var scheduled: Int
        /// Counters short (positive) or spare (negative).
        var gap: Int
    }

    struct StaffingView: Codable, Sendable, ResponseEncodable {
        var branchId: BranchID
        var from: LocalDate
        var days: Int
        var serviceLevel: Double
        var method: String
        var services: [ServiceTimes]
        /// The half hours the branch is open, or that have arrivals or shifts.
        var slots: [Slot]
    }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1").add(middleware: RequireAccess(.schedule))
        api.get("/branches/:branch/hours", use: showHours)
        api.put("/branches/:branch/hours", use: changeHours)
        api.get("/branches/:branch/schedule", use: showSchedule)
        api.post("/branches/:branch/shift-templates", use: createTemplate)
        api.delete("/shift-templates/:template", use: deleteTemplate)
        api.post("/branches/:branch/shift-assignments", use: createAssignment)
        api.delete("/shift-assignments/:assignment", use: deleteAssignment)
        api.post("/branches/:branch/absences", use: createAbsence)
        api.delete("/absences/:absence", use: deleteAbsence)
        api.post("/branches/:branch/shift-swaps", use: createSwap)
        api.delete("/shift-swaps/:swap", use: deleteSwap)
        api.get("/branches/:branch/forecast", use: showForecast)
        api.get("/branches/:branch/staffing", use: showStaffing)
        router.group("/api/v1").add(middleware: RequireAccess(.ownShifts)).get("/me/shifts", use: showOwnShifts)
    }

    // MARK: Hours

    @Sendable func showHours(_ request: Request, context: TurnoRequestContext) async throws -> HoursView {
        hoursView(try await branch(context))
    }

    @Sendable func changeHours(_ request: Request, context: TurnoRequestContext) async throws -> HoursView {
        let body = try await request.decode(as: HoursRequest.self, context: context)
        let branch = try await branch(context)
        let changed = try await commands.setHours(
            body.openingHours,
            countersFollowShifts: body.countersFollowShifts,
            branchID: branch.id,
            by: context.requirePrincipal(),
            address: context.clientAddress
        )
        return hoursView(changed)
    }

    func hoursView(_ branch: Branch) -> HoursView {
        HoursView(
            branchId: branch.id,
            timeZone: branch.timeZone,
            openingHours: branch.openingHours,
            countersFollowShifts: branch.countersFollowShifts,
            now: branch.openingHours.map { OpeningNow($0.status(atMs: clock.nowMilliseconds(), timeZone: branch.timeZone)) }
        )
    }

    // MARK: The plan

    @Sendable func showSchedule(_ request: Request, context: TurnoRequestContext) async throws -> ScheduleView {
        let branch = try await branch(context)
        let today = LocalDate(ofMilliseconds: clock.nowMilliseconds(), timeZone: branch.timeZone)
        let monday = today.adding(days: -Weekday.allCases.firstIndex(of: today.weekday)!)
        let (from, days) = try Self.period(request, default: monday, maximumDays: 42)
        let roster = try await store.roster(of: branch.id)
        let counters = try await counters(of: branch)
        return ScheduleView(
            branchId: branch.id,
            timeZone: branch.timeZone,
            from: from,
            days: days,
            openingHours: branch.openingHours,
            templates: roster.templates.map(TemplateView.init),
            assignments: roster.assignments.map { assignmentView($0, counters: counters) },
            absences: roster.absences.map { AbsenceView(id: $0.id, user: staff($0.userID), firstDate: $0.firstDate, lastDate: $0.lastDate, reason: $0.reason) },
            swaps: roster.swaps.map { SwapView(id: $0.id, assignmentId: $0.assignmentID, date: $0.date, substitute: staff($0.substituteID)) },
            shifts: roster.shifts(from: from, through: from.adding(days: days - 1), hours: branch.openingHours, timeZone: branch.timeZone).map {
                shiftView($0, branchID: branch.id, roster: roster, counters: counters)
            }
        )
    }

    @Sendable func showOwnShifts(_ request: Request, context: TurnoRequestContext) async throws -> OwnShifts {
        let principal = try context.requirePrincipal()
        guard let userID = principal.userID else { throw Problem(.forbidden, detail: "API keys have no shifts; sign in as a staff member") }
        let now = clock.nowMilliseconds()
        var views: [(startMs: Int64, view: ShiftView, covers: Bool)] = []
        var period: (from: LocalDate, days: Int)?
        for branchID in try await store.branchesWithShifts(of: userID) {
            guard let branch = try await store.branch(branchID), branch.organizationID == principal.organizationID else { continue }
            let today = LocalDate(ofMilliseconds: now, timeZone: branch.timeZone)
            let (from, days) = try period ?? Self.period(request, default: today, maximumDays: 42)
            period = (from, days)
            let roster = try await store.roster(of: branchID)
            let counters = try await counters(of: branch)
            let listed = roster.shifts(from: from, through: from.adding(days: days - 1), hours: branch.openingHours, timeZone: branch.timeZone)
            for shift in listed where shift.userID == userID {
                views.append((shift.startMs, shiftView(shift, branchID: branchID, roster: roster, counters: counters), false))
            }
            // The shift under way: yesterday's (past midnight) or today's.
            let current = roster.shifts(from: today.adding(days: -1), through: today, hours: branch.openingHours, timeZone: branch.timeZone)
            for shift in current where shift.userID == userID && shift.covers(now) {
                views.append((shift.startMs, shiftView(shift, branchID: branchID, roster: roster, counters: counters), true))
            }
        }
        let (from, days) = try period ?? Self.period(request, default: LocalDate(ofMilliseconds: now, timeZone: "UTC"), maximumDays: 42)
        views.sort { $0.startMs < $1.startMs }
        return OwnShifts(from: from, days: days, now: views.first { $0.covers }?.view, shifts: views.filter { !$0.covers }.map(\.view))
    }

    @Sendable func createTemplate(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: TemplateRequest.self, context: context)
        let branch = try await branch(context)
        let template = ShiftTemplate(id: 0, branchID: branch.id, name: body.name, hours: TimeRange(from: body.from, to: body.to), weekdays: Set(body.weekdays))
        let created = try await commands.addTemplate(template, by: context.requirePrincipal(), address: context.clientAddress)
        return try Response.json(TemplateView(created), status: .created)
    }

    @Sendable func deleteTemplate(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await commands.removeTemplate(try Self.id(context, "template"), by: context.requirePrincipal(), address: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func createAssignment(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: AssignmentRequest.self, context: context)
        let branch = try await branch(context)
        let assignment = ShiftAssignment(
            id: 0,
            branchID: branch.id,
            templateID: body.templateId,
            userID: body.userId,
            queueID: body.queueId,
            firstDate: body.firstDate,
            lastDate: body.lastDate
        )
        let created = try await commands.addAssignment(assignment, by: context.requirePrincipal(), address: context.clientAddress)
        return try Response.json(assignmentView(created, counters: try await counters(of: branch)), status: .created)
    }

    @Sendable func deleteAssignment(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await commands.removeAssignment(try Self.id(context, "assignment"), by: context.requirePrincipal(), address: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func createAbsence(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: AbsenceRequest.self, context: context)
        let branch = try await branch(context)
        let absence = Absence(id: 0, branchID: branch.id, userID: body.userId, firstDate: body.firstDate, lastDate: body.lastDate, reason: body.reason ?? "")
        let created = try await commands.addAbsence(absence, by: context.requirePrincipal(), address: context.clientAddress)
        let view = AbsenceView(id: created.id, user: staff(created.userID), firstDate: created.firstDate, lastDate: created.lastDate, reason: created.reason)
        return try Response.json(view, status: .created)
    }

    @Sendable func deleteAbsence(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await commands.removeAbsence(try Self.id(context, "absence"), by: context.requirePrincipal(), address: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func createSwap(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: SwapRequest.self, context: context)
        let branch = try await branch(context)
        let swap = ShiftSwap(id: 0, branchID: branch.id, assignmentID: body.assignmentId, date: body.date, substituteID: body.substituteId)
        let created = try await commands.addSwap(swap, by: context.requirePrincipal(), address: context.clientAddress)
        let view = SwapView(id: created.id, assignmentId: created.assignmentID, date: created.date, substitute: staff(created.substituteID))
        return try Response.json(view, status: .created)
    }

    @Sendable func deleteSwap(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await commands.removeSwap(try Self.id(context, "swap"), by: context.requirePrincipal(), address: context.clientAddress)
        return Response(status: .noContent)
    }

    // MARK: Forecast and staffing

    @Sendable func showForecast(_ request: Request, context: TurnoRequestContext) async throws -> ForecastView {
        let branch = try await branch(context)
        let today = LocalDate(ofMilliseconds: clock.nowMilliseconds(), timeZone: branch.timeZone)
        let (from, days) = try Self.period(request, default: today, maximumDays: 28)
        let services = try await store.state(of: branch.id, organizationID: branch.organizationID).services.values.sorted { $0.id < $1.id }
        let forecast = try await forecast(branch, services: services.map(\.id), from: from, days: days)
        return ForecastView(
            branchId: branch.id,
            method: ArrivalForecast.method,
            historyWeeks: ArrivalForecast.historyWeeks,
            slotMinutes: ArrivalForecast.slotMinutes,
            days: (0..<days).map { offset in
                let date = from.adding(days: offset)
                let perService = services.map { service in
                    ServiceForecast(id: service.id, name: service.name, arrivals: (forecast[service.id]?[date] ?? []).map(Self.rounded))
                }
                let total = (0..<ArrivalForecast.slotsPerDay).map { slot in
                    Self.rounded(services.reduce(0) { $0 + (forecast[$1.id]?[date]?[slot] ?? 0) })
                }
                return DayForecast(date: date, total: total, services: perService)
            }
        )
    }

    @Sendable func showStaffing(_ request: Request, context: TurnoRequestContext) async throws -> StaffingView {
        let branch = try await branch(context)
        let now = clock.nowMilliseconds()
        let today = LocalDate(ofMilliseconds: now, timeZone: branch.timeZone)
        let (from, days) = try Self.period(request, default: today, maximumDays: 28)
        var level = 0.8
        if let text = request.uri.queryParameters["service_level"] {
            guard let value = Double(text), (0.5...0.99).contains(value) else {
                throw Problem.badRequest("service_level is the share of customers to call within the target wait, 0.5 to 0.99; got `\(text)`")
            }
            level = value
        }
        let services = try await store.state(of: branch.id, organizationID: branch.organizationID).services.values.sorted { $0.id < $1.id }
        let forecast = try await forecast(branch, services: services.map(\.id), from: from, days: days)
        let measured = try await store.averageServiceSeconds(branchID: branch.id, fromMs: now - Int64(ArrivalForecast.historyWeeks) * 7 * 86_400_000)
        let times = services.map { service in
            ServiceTimes(
                id: service.id,
                name: service.name,
                serviceS: Int((measured[service.id] ?? Double(service.defaultServiceSeconds)).rounded()),
                targetWaitS: service.targetWaitSeconds
            )
        }
        let roster = try await store.roster(of: branch.id)
        let shifts = roster.shifts(from: from, through: from.adding(days: days - 1), hours: branch.openingHours, timeZone: branch.timeZone)
        var slots: [Slot] = []
        for offset in 0..<days {
            let date = from.adding(days: offset)
            let hours = branch.openingHours?.hours(on: date)
            for index in 0..<ArrivalForecast.slotsPerDay {
                let time = TimeOfDay(minutes: index * ArrivalForecast.slotMinutes)!
                let start = LocalClock.instant(date, time, timeZone: branch.timeZone)
                let arrivals = times.map { forecast[$0.id]?[date]?[index] ?? 0 }
                let total = arrivals.reduce(0, +)
                let scheduled = Roster.countersPerSlot(shifts, slots: [start])[0]
                let open = hours?.contains { $0.contains(time.minutes) } ?? false
                guard open || total > 0.05 || scheduled > 0 else { continue }
                let needed = Self.countersNeeded(arrivals: arrivals, times: times, level: level)
                slots.append(
                    Slot(
                        date: date,
                        time: time,
                        startsAt: Date(milliseconds: start),
                        arrivals: Self.rounded(total),
                        needed: needed,
                        scheduled: scheduled,
                        gap: needed - scheduled
                    )
                )
            }
        }
        return StaffingView(
            branchId: branch.id,
            from: from,
            days: days,
            serviceLevel: level,
            method:
                "Erlang C on the forecast arrivals of each half hour (\(ArrivalForecast.method)): the fewest counters that call \(Int((level * 100).rounded()))% of customers within their service's target wait, all services sharing the counters (the average service time weighted by arrivals, the shortest target wait among them)",
            services: times,
            slots: slots
        )
    }

    /// Counters for a half hour's arrivals of each service, as one line shared by all counters: the service time
    /// weighted by arrivals, the shortest target wait of the services that have arrivals.
    static func countersNeeded(arrivals: [Double], times: [ServiceTimes], level: Double) -> Int {
        let total = arrivals.reduce(0, +)
        guard total > 0 else { return 0 }
        let serviceSeconds = zip(arrivals, times).reduce(0) { $0 + $1.0 * Double(max(1, $1.1.serviceS)) } / total
        let target = zip(arrivals, times).filter { $0.0 > 0 }.map { Double($0.1.targetWaitS) }.min() ?? 0
        return Staffing.countersNeeded(
            arrivalsPerSecond: total / Double(ArrivalForecast.slotMinutes * 60),
            serviceSeconds: serviceSeconds,
            targetWaitSeconds: target,
            level: level
        )
    }

    /// Forecast arrivals of `services` per date and slot, from the eight weeks before `from` (and before today).
    private func forecast(_ branch: Branch, services: [ServiceID], from: LocalDate, days: Int) async throws -> [ServiceID: [LocalDate: [Double]]] {
        let now = clock.nowMilliseconds()
        let today = LocalDate(ofMilliseconds: now, timeZone: branch.timeZone)
        let start = min(from, today)
        let historyStart = start.adding(days: -7 * ArrivalForecast.historyWeeks)
        let midnight = LocalClock.instant(historyStart, TimeOfDay(minutes: 0)!, timeZone: branch.timeZone)
        let end = LocalClock.instant(start, TimeOfDay(minutes: 0)!, timeZone: branch.timeZone)
        var history: [ServiceID: [LocalDate: [Int]]] = [:]
        // Every day of the history since the branch's first ticket is known (a day without tickets counted zero),
        // except special closed days; days before it are unknown, not empty.
        let firstDay = try await store.firstTicketMs(of: branch.id).map { LocalDate(ofMilliseconds: $0, timeZone: branch.timeZone) } ?? start
        for service in services {
            var days: [LocalDate: [Int]] = [:]
            for offset in 0..<(7 * ArrivalForecast.historyWeeks) {
                let date = historyStart.adding(days: offset)
                if date < firstDay { continue }
                if let hours = branch.openingHours, hours.specialDay(date) != nil, hours.hours(on: date).isEmpty { continue }
                days[date] = Array(repeating: 0, count: ArrivalForecast.slotsPerDay)
            }
            history[service] = days
        }
        for row in try await store.arrivals(branchID: branch.id, fromMs: midnight, toMs: end) {
            let date = LocalDate(ofMilliseconds: row.slotStartMs, timeZone: branch.timeZone)
            let slot = LocalClock.minutes(ofMilliseconds: row.slotStartMs, timeZone: branch.timeZone) / ArrivalForecast.slotMinutes
            if history[row.serviceID]?[date] != nil { history[row.serviceID]?[date]?[slot] += row.count }
        }
        let dates = (0..<days).map { from.adding(days: $0) }
        let forecast = history.mapValues { ArrivalForecast.forecast(history: $0, start: start, dates: dates) }
        guard let hours = branch.openingHours else { return forecast }
        // Nobody arrives while the branch is closed (a holiday, hours changed since): those half hours are zero.
        return forecast.mapValues { days in
            days.reduce(into: [:]) { result, day in
                let ranges = hours.hours(on: day.key)
                result[day.key] = day.value.enumerated().map { slot, arrivals in
                    let half = TimeRange(
                        from: TimeOfDay(minutes: slot * ArrivalForecast.slotMinutes)!,
                        to: TimeOfDay(minutes: (slot + 1) * ArrivalForecast.slotMinutes)!
                    )
                    return ranges.contains { $0.overlaps(half) } ? arrivals : 0
                }
            }
        }
    }

    // MARK: Helpers

    private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// The dates the plan may be asked about: enough either side for any history, and the longest period after it.
    static let planned = LocalDate("1971-01-01")!...LocalDate("9999-11-01")!

    /// `from` (a date) and `days` (1 to `maximumDays`) from the query, or the defaults; `weeks` may stand for days.
    static func period(_ request: Request, default start: LocalDate, maximumDays: Int) throws -> (LocalDate, Int) {
        let parameters = request.uri.queryParameters
        var from = start
        if let text = parameters["from"] {
            guard let date = LocalDate(String(text)), Self.planned.contains(date) else {
                throw Problem.badRequest("from must be a date from \(Self.planned.lowerBound) to \(Self.planned.upperBound), such as 2026-12-07; got `\(text)`")
            }
            from = date
        }
        var days = 7
        if let text = parameters["weeks"] {
            guard let weeks = Int(text), (1...(maximumDays / 7)).contains(weeks) else {
                throw Problem.badRequest("weeks must be 1 to \(maximumDays / 7), got `\(text)`")
            }
            days = weeks * 7
        }
        if let text = parameters["days"] {
            guard let count = Int(text), (1...maximumDays).contains(count) else { throw Problem.badRequest("days must be 1 to \(maximumDays), got `\(text)`") }
            days = count
        }
        return (from, days)
    }

    private static func id(_ context: TurnoRequestContext, _ name: String) throws -> Int64 {
        guard let id = context.parameters.get(name, as: Int64.self) else {
            throw Problem.notFound("there is no \(name.replacingOccurrences(of: "template", with: "shift template")) \(context.parameters.get(name) ?? "")")
        }
        return id
    }

    private func branch(_ context: TurnoRequestContext) async throws -> Branch {
        try await store.branch(workedAtBy: context)
    }

    private func counters(of branch: Branch) async throws -> [QueueID: String] {
        try await store.state(of: branch.id, organizationID: branch.organizationID).queues.mapValues(\.counter)
    }

    private func staff(_ id: StaffID) -> StaffName {
        StaffName(id, directory: directory)
    }

    private func assignmentView(_ assignment: ShiftAssignment, counters: [QueueID: String]) -> AssignmentView {
        AssignmentView(
            id: assignment.id,
            templateId: assignment.templateID,
            user: staff(assignment.userID),
            queueId: assignment.queueID,
            counter: counters[assignment.queueID],
            firstDate: assignment.firstDate,
            lastDate: assignment.lastDate
        )
    }

    private func shiftView(_ shift: Shift, branchID: BranchID, roster: Roster, counters: [QueueID: String]) -> ShiftView {
        ShiftView(
            date: shift.date,
            branchId: branchID,
            templateId: shift.templateID,
            template: roster.templates.first { $0.id == shift.templateID }?.name,
            from: shift.hours.from,
            to: shift.hours.to,
            startsAt: Date(milliseconds: shift.startMs),
            endsAt: Date(milliseconds: shift.endMs),
            user: staff(shift.userID),
            queueId: shift.queueID,
            counter: counters[shift.queueID],
            assignmentId: shift.assignmentID,
            swappedFrom: shift.swappedFrom.map(staff)
        )
    }
}

import Foundation
import Hummingbird
import TurnoCore

/// Reports on what happened over a range of local days, for one branch or every branch the caller works at, split
/// by day, hour, weekday, service, counter or staff member: `GET /api/v1/reports` (JSON, or CSV with
/// `Accept: text/csv`), `/api/v1/reports.csv` and `/api/v1/reports.pdf` for managers and admins, and
/// `GET /api/v1/me/report` for anyone's own figures.
struct ReportsController: Sendable {
    let store: QueueStore
    /// Caught up before each report, so a report counts every change committed before it was asked for (unless a
    /// backlog of more than 20,000 events is being counted).
    let writer: ReportWriter
    /// Staff names for the rows, and to tell an unknown staff member in `operator`.
    let directory: StaffDirectory
    let clock: any ServerClock
    /// CSV and PDF count against `TURNO_RATE_EXPORTS`, as the other exports do.
    let exportLimit: RateLimitMiddleware

    func add(to router: Router<TurnoRequestContext>) {
        let reports = router.group("/api/v1").add(middleware: RequireAccess(.reports))
        reports.get("/reports", use: report)
        let exports = reports.add(middleware: exportLimit)
        exports.get("/reports.csv", use: reportCSV)
        exports.get("/reports.pdf", use: reportPDF)
        router.group("/api/v1").add(middleware: RequireAccess(.ownFigures)).get("/me/report", use: ownReport)
    }

    @Sendable func report(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let report = try await build(try ReportRequest(request), principal: try context.requirePrincipal())
        if request.headers[.accept]?.contains("text/csv") == true { return report.csvResponse() }
        return try Response.json(report)
    }

    @Sendable func reportCSV(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await build(try ReportRequest(request), principal: try context.requirePrincipal()).csvResponse()
    }

    @Sendable func reportPDF(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let report = try await build(try ReportRequest(request), principal: try context.requirePrincipal())
        let bytes = ReportPDF.document(report, words: ReportWords(report.language), generatedAtMs: clock.nowMilliseconds())
        return Response(
            status: .ok,
            headers: [.contentType: "application/pdf", .contentDisposition: "attachment; filename=\"report-\(report.from)-\(report.to).pdf\""],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// The caller's own figures, by day, weekday or as a whole (`group=operator`), over every branch they work at.
    @Sendable func ownReport(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let userID = principal.userID else { throw Problem(.forbidden, detail: "an API key has no figures of its own; sign in as a staff member") }
        var query = try ReportRequest(request, groupings: [.day, .weekday, .operator])
        guard query.operatorID == nil || query.operatorID == userID else {
            throw Problem(.forbidden, detail: "you may read only your own figures here; managers read others' in /api/v1/reports")
        }
        query.operatorID = userID
        return try Response.json(try await build(query, principal: principal))
    }

    /// The report `query` asks for, over the branches the caller may read.
    func build(_ query: ReportRequest, principal: Principal) async throws -> ReportView {
        let branches = try await branches(query.branchID, principal: principal)
        let now = clock.nowMilliseconds()
        let today = LocalDay.of(now, timeZone: branches.first?.timeZone ?? "UTC")
        let (from, to) = try query.range(today: today)
        if let user = query.operatorID, directory.user(id: user)?.organizationID != principal.organizationID {
            throw Problem.badRequest("there is no staff member \(user) in this organization")
        }
        let ids = branches.map(\.id)
        // At most 20,000 events: more is a backlog (the event log of an install from before the reports, say) that
        // the background loop works through, and the report shows what is counted so far.
        try await writer.catchUp(batches: 10)
        // Only services and counters are labelled with names from the database.
        let names = [.service, .counter].contains(query.grouping) ? try await store.reportNames(of: ids) : ReportNames()
        let grouping = query.grouping
        let dimension = query.operatorID == nil ? grouping.dimension : .user
        let cells = try await store.reportFigures(of: ids, from: from, to: to, dimension: dimension, member: query.operatorID, byDay: grouping.needsDays)
        var rows: [String: ReportFigures] = [:]
        for (key, figures) in cells {
            let row = grouping.rowKey(cellKey: key)
            if rows[row] == nil { rows[row] = figures } else { rows[row]!.add(figures) }
        }
        let wholeDimension: ReportDimension = query.operatorID == nil ? .all : .user
        var total =
            try await store.reportFigures(of: ids, from: from, to: to, dimension: wholeDimension, member: query.operatorID, byDay: false).values
            .first ?? ReportFigures()
        // Counters open now have an open span the cells get only when they pause or close: it counts up to now.
        for span in try await store.openSpans(of: branches) {
            for (key, figures) in ReportContributions.openTime(
                branchID: span.branchID,
                queueID: span.queueID,
                userID: span.userID,
                openedAtMs: span.openedAtMs,
                closedAtMs: now,
                timeZone: span.timeZone
            ) where key.span == .day && key.period >= from && key.period <= to && (query.operatorID == nil || key.member == query.operatorID) {
                if key.dimension == dimension {
                    rows[grouping.rowKey(cellKey: grouping.needsDays ? key.period : String(key.member)), default: ReportFigures()].add(figures)
                }
                if key.dimension == wholeDimension { total.add(figures) }
            }
        }
        for key in Self.keysShownEmpty(grouping, from: from, to: to) where rows[key] == nil { rows[key] = ReportFigures() }
        let qualified = branches.count > 1
        let label = { (key: String) -> String in
            switch grouping {
            case .day: key
            case .hour: String(format: "%02d:00", Int(key) ?? 0)
            case .weekday: ReportWords.english.weekdays[(Int(key) ?? 1) - 1]
            case .service: names.services[Int64(key) ?? 0].map { qualified ? "\($0.branch) · \($0.name)" : $0.name } ?? "service \(key)"
            case .counter: names.queues[Int64(key) ?? 0].map { qualified ? "\($0.branch) · \($0.name)" : $0.name } ?? "counter \(key)"
            case .operator: self.directory.user(id: Int64(key) ?? 0)?.username ?? "staff member \(key)"
            }
        }
        let ordered = rows.keys.sorted { left, right in
            switch grouping {
            case .day: left < right
            case .hour, .weekday: (Int(left) ?? 0) < (Int(right) ?? 0)
            default: (label(left), left) < (label(right), right)
            }
        }
        return ReportView(
            from: from,
            to: to,
            group: grouping,
            branches: branches.map { .init(id: $0.id, name: $0.name) },
            operatorId: query.operatorID,
            language: branches.first?.language ?? "en",
            rows: ordered.map { ReportRowView(key: $0, label: label($0), ReportSummary(rows[$0]!), grouping: grouping) },
            total: ReportRowView(
                key: "total",
                label: "Total",
                ReportSummary(total),
                grouping: query.operatorID == nil ? .day : .operator
            )
        )
    }

    /// Rows shown even when nothing happened in them, so charts keep their axis: every day, every weekday.
    static func keysShownEmpty(_ grouping: ReportGrouping, from: String, to: String) -> [String] {
        switch grouping {
        case .day: (0..<(CalendarDays.days(from: from, to: to) ?? 0)).compactMap { CalendarDays.adding($0, to: from) }
        case .weekday: (1...7).map(String.init)
        default: []
        }
    }

    /// The branch asked for, or every branch of the organization the caller works at.
    private func branches(_ branchID: BranchID?, principal: Principal) async throws -> [Branch] {
        if let branchID {
            guard let branch = try await store.branch(branchID) else { throw Problem.notFound("there is no branch \(branchID)") }
            try QueueAccess.check(principal, branch: branch)
            return [branch]
        }
        return try await store.branches(organizationID: principal.organizationID).filter { principal.canAccess(branch: $0.id) }
    }
}

/// What a report request asks for: `branch` (default: all the caller's), `from` and `to` (local days, default
/// today; at most 731 days), `group` (default `day`) and `operator` (one staff member's figures).
struct ReportRequest: Sendable {
    var branchID: BranchID?
    var fromDay: String?
    var toDay: String?
    var grouping: ReportGrouping
    var operatorID: StaffID?

    /// The longest range one report may cover.
    static let maximumDays = 731

    init(_ request: Request, groupings: [ReportGrouping] = ReportGrouping.allCases) throws {
        let parameters = request.uri.queryParameters
        func day(_ name: String) throws -> String? {
            guard let text = parameters[Substring(name)].map(String.init) else { return nil }
            guard CalendarDays.isoWeekday(of: text) != nil, Timestamp.parse(text + "T00:00:00Z") != nil else {
                throw Problem.badRequest("\(name) must be a date such as 2026-11-21, got `\(text)`")
            }
            return text
        }
        branchID = try request.positiveNumber(query: "branch")
        operatorID = try request.positiveNumber(query: "operator")
        fromDay = try day("from")
        toDay = try day("to")
        let group = parameters["group"].map(String.init) ?? "day"
        guard let grouping = ReportGrouping(rawValue: group), groupings.contains(grouping) else {
            throw Problem.badRequest("`\(group)` is not a grouping; use one of \(groupings.map(\.rawValue).joined(separator: ", "))")
        }
        if operatorID != nil, ![.day, .weekday, .operator].contains(grouping) {
            throw Problem.badRequest("one staff member's figures are grouped by day, weekday or operator, not by \(group)")
        }
        self.grouping = grouping
    }

    /// The range, checked: `from` defaults to `to`, `to` to today.
    func range(today: String) throws -> (String, String) {
        let to = toDay ?? today
        let from = fromDay ?? to
        guard from <= to else { throw Problem.badRequest("from (\(from)) is after to (\(to))") }
        let days = CalendarDays.days(from: from, to: to) ?? 0
        guard days <= Self.maximumDays else { throw Problem.badRequest("ask for at most \(Self.maximumDays) days at a time, not \(days)") }
        return (from, to)
    }
}

/// A report as JSON, CSV and PDF show it.
struct ReportView: Codable, Sendable, ResponseEncodable {
    struct BranchName: Codable, Sendable {
        var id: BranchID
        var name: String
    }

    var from: String
    var to: String
    var group: ReportGrouping
    var branches: [BranchName]
    var operatorId: StaffID?
    /// The first branch's language, the PDF's.
    var language: String
    var rows: [ReportRowView]
    var total: ReportRowView

    func csvResponse() -> Response {
        let lines = [ReportRowView.csvHeader] + rows.map(\.csvFields) + [total.csvFields]
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"report-\(from)-\(to).csv\""],
            body: .init(byteBuffer: ByteBuffer(string: lines.map(CSV.row).joined()))
        )
    }
}

/// One row of a report. Figures a row cannot have are null: issued tickets per counter or staff member (tickets are
/// issued to a service), open time and utilisation per hour or service (counters open for all of them).
struct ReportRowView: Codable, Sendable {
    var key: String
    var label: String
    var issued: Int?
    var served: Int
    var noShows: Int
    var cancelled: Int
    var expired: Int
    var transfers: Int
    var abandonmentRate: Double?
    var noShowRate: Double?
    var waitP50S: Int64?
    var waitP90S: Int64?
    var waitMaxS: Int64?
    var withinTargetShare: Double?
    var serviceP50S: Int64?
    var serviceP90S: Int64?
    var serviceMaxS: Int64?
    var utilisation: Double?
    var openS: Int64?
    var idleS: Int64?
    var ratingCount: Int
    var ratingMean: Double?
    var ratingDistribution: [Int]
    var complaints: Int

    /// Spelt out: the snake_case conversion would write `wait_p50s`.
    enum CodingKeys: String, CodingKey {
        case key, label, issued, served, noShows, cancelled, expired, transfers, abandonmentRate, noShowRate
        case waitP50S = "wait_p50_s"
        case waitP90S = "wait_p90_s"
        case waitMaxS, withinTargetShare
        case serviceP50S = "service_p50_s"
        case serviceP90S = "service_p90_s"
        case serviceMaxS
        case utilisation, openS, idleS, ratingCount, ratingMean, ratingDistribution, complaints
    }

    init(key: String, label: String, _ summary: ReportSummary, grouping: ReportGrouping) {
        self.key = key
        self.label = label
        issued = grouping == .counter || grouping == .operator ? nil : summary.issued
        served = summary.served
        noShows = summary.noShows
        cancelled = summary.cancelled
        expired = summary.expired
        transfers = summary.transfers
        abandonmentRate = summary.abandonmentRate
        noShowRate = summary.noShowRate
        waitP50S = summary.waitP50Seconds
        waitP90S = summary.waitP90Seconds
        waitMaxS = summary.waitMaxSeconds
        withinTargetShare = summary.withinTargetShare
        serviceP50S = summary.serviceP50Seconds
        serviceP90S = summary.serviceP90Seconds
        serviceMaxS = summary.serviceMaxSeconds
        let keepsOpenTime = grouping != .hour && grouping != .service
        utilisation = keepsOpenTime ? summary.utilisation : nil
        openS = keepsOpenTime ? summary.openSeconds : nil
        idleS = keepsOpenTime ? summary.idleSeconds : nil
        ratingCount = summary.ratingCount
        ratingMean = summary.ratingMean
        ratingDistribution = summary.ratingDistribution
        complaints = summary.complaints
    }

    static let csvHeader = [
        "key", "label", "issued", "served", "no_shows", "cancelled", "expired", "transfers", "abandonment_rate", "no_show_rate", "wait_p50_s",
        "wait_p90_s", "wait_max_s", "within_target_share", "service_p50_s", "service_p90_s", "service_max_s", "utilisation", "open_s", "idle_s",
        "rating_count", "rating_mean", "rating_1", "rating_2", "rating_3", "rating_4", "rating_5", "complaints",
    ]

    var csvFields: [String] {
        func text(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "" }
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        return [
            key, label, text(issued), String(served), String(noShows), String(cancelled), String(expired), String(transfers), ratio(abandonmentRate),
            ratio(noShowRate), text(waitP50S), text(waitP90S), text(waitMaxS), ratio(withinTargetShare), text(serviceP50S), text(serviceP90S),
            text(serviceMaxS), ratio(utilisation), text(openS), text(idleS), String(ratingCount), ratio(ratingMean),
        ] + ratingDistribution.map(String.init) + [String(complaints)]
    }
}

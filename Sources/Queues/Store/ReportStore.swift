import SQLKit
import TurnoCore

/// The report cells: a row of figures per cell in `report_cells`, and apart, in `report_durations`, a row per
/// duration bucket of a cell that holds a wait or a service time — most cells hold a few, and the figures do not
/// repeat for each.
extension QueueStore {
    static let reportFigureColumns = [
        "issued", "served", "no_shows", "cancelled", "expired", "transfers", "waited", "wait_sum_ms", "wait_max_ms", "within_target",
        "service_sum_ms", "service_max_ms", "open_ms", "rating1", "rating2", "rating3", "rating4", "rating5", "complaints",
    ]
    private static let keyColumns = ["branch_id", "span", "dimension", "period", "member"]

    /// Adds contributions to their cells, in the caller's transaction: one statement for the figures and one for the
    /// durations (another per thousand rows).
    func addToReports(_ contributions: [(ReportCellKey, ReportFigures)], in transaction: Transaction) async throws {
        // Sorted, so that two transactions touching the same cells on PostgreSQL take their row locks in one order.
        let cells = ReportContributions.merged(contributions).sorted { Self.order($0.key) < Self.order($1.key) }
        let figures = cells.map { key, figures in (key, Self.values(of: figures)) }
        let durations = cells.flatMap { key, figures in
            Set(figures.waitBuckets.keys).union(figures.serviceBuckets.keys).sorted().map { bucket in
                (key, [Int64(bucket), Int64(figures.waitBuckets[bucket] ?? 0), Int64(figures.serviceBuckets[bucket] ?? 0)])
            }
        }
        let larger = transaction.kind == .postgres ? "GREATEST" : "MAX"
        let figureUpdates = Self.reportFigureColumns.map { column in
            column.hasSuffix("_max_ms")
                ? "\(column) = \(larger)(report_cells.\(column), excluded.\(column))" : "\(column) = report_cells.\(column) + excluded.\(column)"
        }
        // A thousand rows keep a statement under SQLite's limit of 32,766 bound values.
        for start in stride(from: 0, to: figures.count, by: 1_000) {
            try await upsert(
                into: "report_cells",
                columns: Self.reportFigureColumns,
                rows: figures[start..<min(start + 1_000, figures.count)],
                conflict: Self.keyColumns,
                updates: figureUpdates,
                in: transaction
            )
        }
        for start in stride(from: 0, to: durations.count, by: 1_000) {
            try await upsert(
                into: "report_durations",
                columns: ["bucket", "waits", "services"],
                rows: durations[start..<min(start + 1_000, durations.count)],
                conflict: Self.keyColumns + ["bucket"],
                updates: ["waits = report_durations.waits + excluded.waits", "services = report_durations.services + excluded.services"],
                in: transaction
            )
        }
    }

    private func upsert(
        into table: String,
        columns: [String],
        rows: ArraySlice<(ReportCellKey, [Int64])>,
        conflict: [String],
        updates: [String],
        in transaction: Transaction
    ) async throws {
        var query: SQLQueryString = "INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: (Self.keyColumns + columns).joined(separator: ", "))) VALUES"
        for (index, (key, values)) in rows.enumerated() {
            query.appendInterpolation(unsafeRaw: index == 0 ? " (" : ", (")
            query.appendInterpolation(bind: key.branchID)
            query.appendInterpolation(unsafeRaw: ", ")
            query.appendInterpolation(bind: key.span.rawValue)
            query.appendInterpolation(unsafeRaw: ", ")
            query.appendInterpolation(bind: key.dimension.rawValue)
            query.appendInterpolation(unsafeRaw: ", ")
            query.appendInterpolation(bind: key.period)
            query.appendInterpolation(unsafeRaw: ", ")
            query.appendInterpolation(bind: key.member)
            for value in values {
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: value)
            }
            query.appendInterpolation(unsafeRaw: ")")
        }
        query.appendInterpolation(unsafeRaw: " ON CONFLICT (\(conflict.joined(separator: ", "))) DO UPDATE SET ")
        query.appendInterpolation(unsafeRaw: updates.joined(separator: ", "))
        try await transaction.sql.raw(query).run()
    }

    private static func order(_ key: ReportCellKey) -> String {
        "\(key.branchID) \(key.span.rawValue) \(key.dimension.rawValue) \(key.period) \(key.member)"
    }

    /// A cell's figures in the order of `reportFigureColumns`.
    private static func values(of f: ReportFigures) -> [Int64] {
        [f.issued, f.served, f.noShows, f.cancelled, f.expired, f.transfers, f.waited].map(Int64.init)
            + [f.waitSumMs, f.waitMaxMs, Int64(f.withinTarget), f.serviceSumMs, f.serviceMaxMs, f.openMs]
            + (f.ratings + [f.complaints]).map(Int64.init)
    }

    /// The figures of `branches` from `from` to `to` (local days) in `dimension` (only `member` of it when given), per
    /// day (`byDay`, keyed `2026-03-29`) or per member (keyed by its id or hour).
    func reportFigures(
        of branches: [BranchID],
        from: String,
        to: String,
        dimension: ReportDimension,
        member: Int64?,
        byDay: Bool
    ) async throws
        -> [String: ReportFigures]
    {
        guard !branches.isEmpty else { return [:] }
        let cover = byDay ? ([from...to], []) : CalendarDays.cover(from: from, to: to)
        var cells: SQLQueryString = "branch_id IN ("
        for (index, branch) in branches.enumerated() {
            if index > 0 { cells.appendInterpolation(unsafeRaw: ", ") }
            cells.appendInterpolation(bind: branch)
        }
        cells.appendInterpolation(unsafeRaw: ") AND dimension = ")
        cells.appendInterpolation(bind: dimension.rawValue)
        if let member {
            cells.appendInterpolation(unsafeRaw: " AND member = ")
            cells.appendInterpolation(bind: member)
        }
        var periods: [SQLQueryString] = cover.0.map { "(span = 'day' AND period >= \(bind: $0.lowerBound) AND period <= \(bind: $0.upperBound))" }
        if !cover.1.isEmpty {
            var months: SQLQueryString = "(span = 'month' AND period IN ("
            for (index, month) in cover.1.enumerated() {
                if index > 0 { months.appendInterpolation(unsafeRaw: ", ") }
                months.appendInterpolation(bind: month)
            }
            months.appendInterpolation(unsafeRaw: "))")
            periods.append(months)
        }
        cells.appendInterpolation(unsafeRaw: " AND (")
        for (index, period) in periods.enumerated() {
            if index > 0 { cells.appendInterpolation(unsafeRaw: " OR ") }
            cells.appendInterpolation(period)
        }
        cells.appendInterpolation(unsafeRaw: ")")
        let key = byDay ? "period" : "member"
        let sums = Self.reportFigureColumns.map { $0.hasSuffix("_max_ms") ? "MAX(\($0)) AS \($0)" : "SUM(\($0)) AS \($0)" }.joined(separator: ", ")
        let (figureRows, durationRows) = try await storage.read { sql in
            (
                try await sql.raw("SELECT \(unsafeRaw: key) AS row_key, \(unsafeRaw: sums) FROM report_cells WHERE \(cells) GROUP BY \(unsafeRaw: key)").all(),
                try await sql.raw(
                    """
                    SELECT \(unsafeRaw: key) AS row_key, bucket, SUM(waits) AS waits, SUM(services) AS services FROM report_durations
                    WHERE \(cells) GROUP BY \(unsafeRaw: key), bucket
                    """
                ).all()
            )
        }
        func rowKey(_ row: any SQLRow) throws -> String {
            byDay ? try row.decode(column: "row_key", as: String.self) : String(try row.decode(column: "row_key", as: Int64.self))
        }
        var figures: [String: ReportFigures] = [:]
        for row in figureRows {
            let values = try Self.reportFigureColumns.map { try row.decode(column: $0, as: Int64?.self) ?? 0 }
            var cell = ReportFigures()
            (cell.issued, cell.served, cell.noShows, cell.cancelled, cell.expired, cell.transfers, cell.waited) = (
                Int(values[0]), Int(values[1]), Int(values[2]), Int(values[3]), Int(values[4]), Int(values[5]), Int(values[6])
            )
            (cell.waitSumMs, cell.waitMaxMs, cell.withinTarget, cell.serviceSumMs, cell.serviceMaxMs, cell.openMs) = (
                values[7], values[8], Int(values[9]), values[10], values[11], values[12]
            )
            cell.ratings = values[13...17].map { Int($0) }
            cell.complaints = Int(values[18])
            figures[try rowKey(row)] = cell
        }
        for row in durationRows {
            let bucket = try row.decode(column: "bucket", as: Int.self)
            let waits = try row.decode(column: "waits", as: Int.self)
            let services = try row.decode(column: "services", as: Int.self)
            let key = try rowKey(row)
            if waits > 0 { figures[key, default: ReportFigures()].waitBuckets[bucket] = waits }
            if services > 0 { figures[key, default: ReportFigures()].serviceBuckets[bucket] = services }
        }
        return figures
    }
}

/// The names report rows are labelled with: services and counters, with their branch's name.
struct ReportNames: Sendable {
    var services: [ServiceID: (branch: String, name: String)] = [:]
    var queues: [QueueID: (branch: String, name: String)] = [:]
}

extension QueueStore {
    func reportNames(of branches: [BranchID]) async throws -> ReportNames {
        guard !branches.isEmpty else { return ReportNames() }
        var list: SQLQueryString = ""
        for (index, branch) in branches.enumerated() {
            if index > 0 { list.appendInterpolation(unsafeRaw: ", ") }
            list.appendInterpolation(bind: branch)
        }
        return try await storage.read { sql in
            var names = ReportNames()
            let services = try await sql.raw(
                "SELECT s.id, s.name, b.name AS branch FROM services s JOIN branches b ON b.id = s.branch_id WHERE s.branch_id IN (\(list))"
            ).all()
            for row in services {
                names.services[try row.decode(column: "id", as: Int64.self)] = (
                    try row.decode(column: "branch", as: String.self), try row.decode(column: "name", as: String.self)
                )
            }
            let queues = try await sql.raw(
                "SELECT q.id, q.counter, b.name AS branch FROM queues q JOIN branches b ON b.id = q.branch_id WHERE q.branch_id IN (\(list))"
            ).all()
            for row in queues {
                names.queues[try row.decode(column: "id", as: Int64.self)] = (
                    try row.decode(column: "branch", as: String.self), try row.decode(column: "counter", as: String.self)
                )
            }
            return names
        }
    }
}

/// A counter open now: since when, and who opened it.
struct OpenSpan: Sendable {
    var branchID: BranchID
    var queueID: QueueID
    var userID: StaffID?
    var openedAtMs: Int64
    var timeZone: String
}

extension QueueStore {
    /// The counters of `branches` open now.
    func openSpans(of branches: [Branch]) async throws -> [OpenSpan] {
        guard !branches.isEmpty else { return [] }
        let zones = Dictionary(uniqueKeysWithValues: branches.map { ($0.id, $0.timeZone) })
        var list: SQLQueryString = ""
        for (index, branch) in branches.enumerated() {
            if index > 0 { list.appendInterpolation(unsafeRaw: ", ") }
            list.appendInterpolation(bind: branch.id)
        }
        return try await storage.read { sql in
            try await sql.raw(
                """
                SELECT id, branch_id, opened_at_ms, opened_by FROM queues
                WHERE branch_id IN (\(list)) AND state = 'open' AND active = 1 AND opened_at_ms IS NOT NULL
                """
            ).all().map { row in
                let branchID = try row.decode(column: "branch_id", as: Int64.self)
                return OpenSpan(
                    branchID: branchID,
                    queueID: try row.decode(column: "id", as: Int64.self),
                    userID: try row.decode(column: "opened_by", as: Int64?.self),
                    openedAtMs: try row.decode(column: "opened_at_ms", as: Int64.self),
                    timeZone: zones[branchID] ?? "UTC"
                )
            }
        }
    }
}

import SQLKit
import TurnoCore

/// The report cells: one row of figures per cell (`bucket` −1) and one row per duration bucket that holds a wait or a
/// service time (`waited` and `served` then count the waits and service times in that bucket).
extension QueueStore {
    static let reportFigureColumns = [
        "issued", "served", "no_shows", "cancelled", "expired", "transfers", "waited", "wait_sum_ms", "wait_max_ms", "within_target",
        "service_sum_ms", "service_max_ms", "open_ms", "rating1", "rating2", "rating3", "rating4", "rating5", "complaints",
    ]

    /// Adds contributions to their cells, in the caller's transaction: one statement, however many cells.
    func addToReports(_ contributions: [(ReportCellKey, ReportFigures)], in transaction: Transaction) async throws {
        let cells = ReportContributions.merged(contributions)
        guard !cells.isEmpty else { return }
        let larger = transaction.kind == .postgres ? "GREATEST" : "MAX"
        let updates = Self.reportFigureColumns.map { column in
            column.hasSuffix("_max_ms")
                ? "\(column) = \(larger)(report_cells.\(column), excluded.\(column))" : "\(column) = report_cells.\(column) + excluded.\(column)"
        }
        var query: SQLQueryString = """
            INSERT INTO report_cells (branch_id, span, period, dimension, member, bucket, \(unsafeRaw: Self.reportFigureColumns.joined(separator: ", "))) VALUES
            """
        var first = true
        // Sorted, so that two transactions touching the same cells on PostgreSQL take their row locks in one order.
        for (key, figures) in cells.sorted(by: { Self.order($0.key) < Self.order($1.key) }) {
            for (bucket, values) in Self.rows(of: figures) {
                query.appendInterpolation(unsafeRaw: first ? " (" : ", (")
                first = false
                query.appendInterpolation(bind: key.branchID)
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: key.span.rawValue)
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: key.period)
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: key.dimension.rawValue)
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: key.member)
                query.appendInterpolation(unsafeRaw: ", ")
                query.appendInterpolation(bind: bucket)
                for value in values {
                    query.appendInterpolation(unsafeRaw: ", ")
                    query.appendInterpolation(bind: value)
                }
                query.appendInterpolation(unsafeRaw: ")")
            }
        }
        query.appendInterpolation(unsafeRaw: " ON CONFLICT (branch_id, span, dimension, period, member, bucket) DO UPDATE SET ")
        query.appendInterpolation(unsafeRaw: updates.joined(separator: ", "))
        try await transaction.sql.raw(query).run()
    }

    private static func order(_ key: ReportCellKey) -> String {
        "\(key.branchID) \(key.span.rawValue) \(key.dimension.rawValue) \(key.period) \(key.member)"
    }

    /// The rows a cell's figures are written as: (−1, the figures), then (bucket, waits and service times in it).
    private static func rows(of figures: ReportFigures) -> [(Int, [Int64])] {
        let f = figures
        let counts = [f.issued, f.served, f.noShows, f.cancelled, f.expired, f.transfers, f.waited].map(Int64.init)
        let times = [f.waitSumMs, f.waitMaxMs, Int64(f.withinTarget), f.serviceSumMs, f.serviceMaxMs, f.openMs]
        var rows: [(Int, [Int64])] = [(-1, counts + times + (f.ratings + [f.complaints]).map(Int64.init))]
        for bucket in Set(f.waitBuckets.keys).union(f.serviceBuckets.keys).sorted() {
            var values = [Int64](repeating: 0, count: reportFigureColumns.count)
            values[6] = Int64(f.waitBuckets[bucket] ?? 0)
            values[1] = Int64(f.serviceBuckets[bucket] ?? 0)
            rows.append((bucket, values))
        }
        return rows
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
        let sums = Self.reportFigureColumns.map { $0.hasSuffix("_max_ms") ? "MAX(\($0)) AS \($0)" : "SUM(\($0)) AS \($0)" }
        let groupBy = byDay ? "period" : "member"
        var query: SQLQueryString =
            "SELECT \(unsafeRaw: groupBy) AS row_key, bucket, \(unsafeRaw: sums.joined(separator: ", ")) FROM report_cells WHERE branch_id IN ("
        for (index, branch) in branches.enumerated() {
            if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
            query.appendInterpolation(bind: branch)
        }
        query.appendInterpolation(unsafeRaw: ") AND dimension = ")
        query.appendInterpolation(bind: dimension.rawValue)
        if let member {
            query.appendInterpolation(unsafeRaw: " AND member = ")
            query.appendInterpolation(bind: member)
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
        query.appendInterpolation(unsafeRaw: " AND (")
        for (index, period) in periods.enumerated() {
            if index > 0 { query.appendInterpolation(unsafeRaw: " OR ") }
            query.appendInterpolation(period)
        }
        query.appendInterpolation(unsafeRaw: ") GROUP BY \(groupBy), bucket")
        let rows = try await storage.read { sql in try await sql.raw(query).all() }
        var figures: [String: ReportFigures] = [:]
        for row in rows {
            let key = byDay ? try row.decode(column: "row_key", as: String.self) : String(try row.decode(column: "row_key", as: Int64.self))
            let bucket = try row.decode(column: "bucket", as: Int.self)
            let values = try Self.reportFigureColumns.map { try row.decode(column: $0, as: Int64?.self) ?? 0 }
            var cell = ReportFigures()
            if bucket < 0 {
                (cell.issued, cell.served, cell.noShows, cell.cancelled, cell.expired, cell.transfers, cell.waited) = (
                    Int(values[0]), Int(values[1]), Int(values[2]), Int(values[3]), Int(values[4]), Int(values[5]), Int(values[6])
                )
                (cell.waitSumMs, cell.waitMaxMs, cell.withinTarget, cell.serviceSumMs, cell.serviceMaxMs, cell.openMs) = (
                    values[7], values[8], Int(values[9]), values[10], values[11], values[12]
                )
                cell.ratings = values[13...17].map { Int($0) }
                cell.complaints = Int(values[18])
            } else {
                if values[6] > 0 { cell.waitBuckets[bucket] = Int(values[6]) }
                if values[1] > 0 { cell.serviceBuckets[bucket] = Int(values[1]) }
            }
            figures[key, default: ReportFigures()].add(cell)
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

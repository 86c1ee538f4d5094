import SQLKit
import TurnoCore

/// The report cells: a row per cell, its figures in columns and its waits and service times as counts per duration
/// bucket (`12:3,40:1`: three in bucket 12, one in bucket 40). Cells are read and written whole; every writer first
/// takes the `report_progress` row, so two never merge into the same cell at once.
extension QueueStore {
    static let reportFigureColumns = [
        "issued", "served", "no_shows", "cancelled", "expired", "transfers", "waited", "wait_sum_ms", "wait_max_ms", "within_target",
        "service_sum_ms", "service_max_ms", "open_ms", "rating1", "rating2", "rating3", "rating4", "rating5", "complaints",
    ]
    private static let keyColumns = ["branch_id", "span", "dimension", "period", "member"]

    /// Takes the cells for the rest of the transaction (the row lock on PostgreSQL; SQLite has one writer anyway) and
    /// returns how far into the event log they have counted; with `unlessBusy`, nil at once when another transaction
    /// holds them.
    func lockReportCells(in transaction: Transaction, unlessBusy: Bool = false) async throws -> Int64? {
        let lock = transaction.kind == .postgres ? (unlessBusy ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE") : ""
        return try await transaction.sql.raw("SELECT last_sequence FROM report_progress WHERE id = 1\(unsafeRaw: lock)").first()?
            .decode(column: "last_sequence", as: Int64.self)
    }

    func setReportProgress(_ sequence: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE report_progress SET last_sequence = \(bind: sequence) WHERE id = 1").run()
    }

    /// How far into the event log the cells have counted, read without waiting for a writer.
    func reportProgress() async throws -> Int64 {
        try await storage.read { sql in
            try await sql.raw("SELECT last_sequence FROM report_progress WHERE id = 1").first()?.decode(column: "last_sequence", as: Int64.self) ?? 0
        }
    }

    /// Adds contributions to their cells in the caller's transaction: reads the cells it touches, adds, writes them
    /// back. Takes the cells first (`lockReportCells`) unless `locked`.
    func addToReports(_ contributions: [(ReportCellKey, ReportFigures)], in transaction: Transaction, locked: Bool = false) async throws {
        let cells = ReportContributions.merged(contributions)
        guard !cells.isEmpty else { return }
        if !locked { _ = try await lockReportCells(in: transaction) }
        var merged = try await reportCells(Array(cells.keys), sql: transaction.sql)
        for (key, figures) in cells { merged[key, default: ReportFigures()].add(figures) }
        let rows = merged.sorted { Self.order($0.key) < Self.order($1.key) }
        // 500 rows of 26 values keep a statement under SQLite's limit of 32,766 bound values.
        for start in stride(from: 0, to: rows.count, by: 500) {
            try await write(rows[start..<min(start + 500, rows.count)], in: transaction)
        }
    }

    /// The stored figures of `keys`, those that have any.
    private func reportCells(_ keys: [ReportCellKey], sql: any SQLDatabase) async throws -> [ReportCellKey: ReportFigures] {
        var found: [ReportCellKey: ReportFigures] = [:]
        // By branch, span and dimension, so each lookup is one range of the primary key.
        let groups = Dictionary(grouping: keys) { "\($0.branchID) \($0.span.rawValue) \($0.dimension.rawValue)" }
        for group in groups.values {
            let first = group[0]
            let query: SQLQueryString = """
                SELECT period, member, \(unsafeRaw: Self.reportFigureColumns.joined(separator: ", ")), waits, services FROM report_cells
                WHERE branch_id = \(bind: first.branchID) AND span = \(bind: first.span.rawValue) AND dimension = \(bind: first.dimension.rawValue)
                  AND period IN (\(binds: Set(group.map(\.period)).sorted()))
                """
            let wanted = Set(group)
            for row in try await sql.raw(query).all() {
                var key = first
                key.period = try row.decode(column: "period", as: String.self)
                key.member = try row.decode(column: "member", as: Int64.self)
                if wanted.contains(key) { found[key] = try Self.figures(from: row) }
            }
        }
        return found
    }

    private func write(_ rows: ArraySlice<(key: ReportCellKey, value: ReportFigures)>, in transaction: Transaction) async throws {
        let columns = Self.keyColumns + Self.reportFigureColumns + ["waits", "services"]
        var query: SQLQueryString = "INSERT INTO report_cells (\(unsafeRaw: columns.joined(separator: ", "))) VALUES"
        for (index, (key, figures)) in rows.enumerated() {
            let keys: [any Encodable & Sendable] = [key.branchID, key.span.rawValue, key.dimension.rawValue, key.period, key.member]
            let buckets = [DurationBuckets.encode(figures.waitBuckets), DurationBuckets.encode(figures.serviceBuckets)]
            query.appendInterpolation(unsafeRaw: index == 0 ? " (" : ", (")
            query.appendInterpolation(binds: keys + Self.values(of: figures) + buckets)
            query.appendInterpolation(unsafeRaw: ")")
        }
        let updates = (Self.reportFigureColumns + ["waits", "services"]).map { "\($0) = excluded.\($0)" }
        query.appendInterpolation(unsafeRaw: " ON CONFLICT (\(Self.keyColumns.joined(separator: ", "))) DO UPDATE SET \(updates.joined(separator: ", "))")
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

    private static func figures(from row: any SQLRow) throws -> ReportFigures {
        let values = try reportFigureColumns.map { try row.decode(column: $0, as: Int64.self) }
        var cell = ReportFigures()
        (cell.issued, cell.served, cell.noShows, cell.cancelled, cell.expired, cell.transfers, cell.waited) = (
            Int(values[0]), Int(values[1]), Int(values[2]), Int(values[3]), Int(values[4]), Int(values[5]), Int(values[6])
        )
        (cell.waitSumMs, cell.waitMaxMs, cell.withinTarget, cell.serviceSumMs, cell.serviceMaxMs, cell.openMs) = (
            values[7], values[8], Int(values[9]), values[10], values[11], values[12]
        )
        cell.ratings = values[13...17].map { Int($0) }
        cell.complaints = Int(values[18])
        cell.waitBuckets = DurationBuckets.decode(try row.decode(column: "waits", as: String.self))
        cell.serviceBuckets = DurationBuckets.decode(try row.decode(column: "services", as: String.self))
        return cell
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
        var cells: SQLQueryString = "branch_id IN (\(binds: branches)) AND dimension = \(bind: dimension.rawValue)"
        if let member {
            cells.appendInterpolation(unsafeRaw: " AND member = ")
            cells.appendInterpolation(bind: member)
        }
        // One statement per part of the cover, so each reads one range of the primary key.
        var parts: [SQLQueryString] = cover.0.map { "span = 'day' AND period >= \(bind: $0.lowerBound) AND period <= \(bind: $0.upperBound)" }
        if !cover.1.isEmpty { parts.append("span = 'month' AND period IN (\(binds: cover.1))") }
        let rows = try await storage.read { sql in
            var rows: [any SQLRow] = []
            for part in parts {
                rows += try await sql.raw(
                    """
                    SELECT period, member, \(unsafeRaw: Self.reportFigureColumns.joined(separator: ", ")), waits, services FROM report_cells
                    WHERE \(cells) AND \(part)
                    """
                ).all()
            }
            return rows
        }
        var figures: [String: ReportFigures] = [:]
        for row in rows {
            let key = byDay ? try row.decode(column: "period", as: String.self) : String(try row.decode(column: "member", as: Int64.self))
            let cell = try Self.figures(from: row)
            // Most rows are one cell: kept as read, not merged into an empty one.
            if figures[key] == nil { figures[key] = cell } else { figures[key]!.add(cell) }
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
        return try await storage.read { sql in
            var names = ReportNames()
            let services = try await sql.raw(
                "SELECT s.id, s.name, b.name AS branch FROM services s JOIN branches b ON b.id = s.branch_id WHERE s.branch_id IN (\(binds: branches))"
            ).all()
            for row in services {
                names.services[try row.decode(column: "id", as: Int64.self)] = (
                    try row.decode(column: "branch", as: String.self), try row.decode(column: "name", as: String.self)
                )
            }
            let queues = try await sql.raw(
                "SELECT q.id, q.counter, b.name AS branch FROM queues q JOIN branches b ON b.id = q.branch_id WHERE q.branch_id IN (\(binds: branches))"
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
        return try await storage.read { sql in
            try await sql.raw(
                """
                SELECT id, branch_id, opened_at_ms, opened_by FROM queues
                WHERE branch_id IN (\(binds: branches.map(\.id))) AND state = 'open' AND active = 1 AND opened_at_ms IS NOT NULL
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

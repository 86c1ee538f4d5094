import Foundation
import SQLKit
import Synchronization
import TurnoCore

/// SQL for the queue module. Every change to a branch's tickets or queues runs as one transaction that
/// locks the branch, loads its active state, asks the domain (`BranchState`) what happens, writes the
/// result and appends the events — so two operators pressing "call next" at once, on one node or on several,
/// are served one after the other and never get the same ticket.
public struct QueueStore: Sendable {
    let storage: Storage
    /// The last state this node loaded or wrote for each branch, with the branch's version then. Every change to
    /// a branch (on any node) raises its version in the same transaction, so a cached state is used only while
    /// the database still has its version: reading it costs one small query instead of every active ticket.
    let cache = BranchStateCache()
    /// Whether changes add to the report cells (with `ReportWriter`). Off only in `turno bench reports`, to measure what
    /// keeping them costs.
    let keepsReportCells: Bool

    public init(storage: Storage, keepsReportCells: Bool = true) {
        self.storage = storage
        self.keepsReportCells = keepsReportCells
    }

    // MARK: Commands on a branch

    /// Runs a domain command on a branch inside one transaction, saves what changed, appends the events.
    public func perform(
        on branchID: BranchID,
        organizationID: Int64?,
        by actor: StaffID?,
        _ command: (inout BranchState, Transaction) async throws -> [QueueEvent]
    ) async throws -> (events: [QueueEvent], state: BranchState) {
        var cached = false
        do {
            return try await storage.write { transaction in
                guard let version = try await lockAndRaiseVersion(of: branchID, in: transaction) else {
                    throw QueueRuleViolation.unknownBranch(branchID)
                }
                var state = try await cachedState(branchID, version: version - 1, organizationID: organizationID, sql: transaction.sql)
                let queuesBefore = state.queues
                let events = try await command(&state, transaction)
                var contributions: [(ReportCellKey, ReportFigures)] = []
                for (id, queue) in state.queues where queuesBefore[id] != queue {
                    let wasOpen = queuesBefore[id]?.state == .open
                    if wasOpen, queue.state != .open, let opened = try await openedAt(of: id, sql: transaction.sql) {
                        contributions += ReportContributions.openTime(
                            branchID: branchID,
                            queueID: id,
                            userID: opened.by,
                            openedAtMs: opened.atMs,
                            closedAtMs: transaction.timeMs,
                            timeZone: state.branch.timeZone
                        )
                    }
                    let opening = !wasOpen && queue.state == .open
                    try await transaction.sql.raw(
                        """
                        UPDATE queues SET state = \(bind: queue.state.rawValue), last_assigned_at_ms = \(bind: queue.lastAssignedAtMs),
                            average_service_s = \(bind: queue.averageServiceSeconds),
                            opened_at_ms = CASE WHEN \(bind: queue.state == .open) THEN COALESCE(\(bind: opening ? transaction.timeMs : nil), opened_at_ms) END,
                            opened_by = CASE WHEN \(bind: queue.state == .open) THEN COALESCE(\(bind: opening ? actor : nil), opened_by) END
                        WHERE id = \(bind: id)
                        """
                    ).run()
                }
                // Issued tickets were inserted by the command as they are; every other ticket is written once, as it ended up.
                var written = Set(events.compactMap { if case .ticketIssued(let ticket) = $0 { ticket.id } else { nil } })
                for event in events.reversed() {
                    guard let ticket = event.ticket, written.insert(ticket.id).inserted else { continue }
                    try await update(ticket, in: transaction)
                }
                try await insertSteps(events.compactMap(TicketStep.init), by: actor, in: transaction)
                // Ticket events reach the reports through the event log (`ReportWriter`); a counter's open time is
                // counted here, where when and by whom it opened is known.
                if keepsReportCells, !contributions.isEmpty { try await addToReports(contributions, in: transaction) }
                for event in events {
                    try await transaction.append(try QueueEvents.newEvent(for: event, state: state))
                }
                // Cached before the commit, so the next command (which may take the lock the moment this one commits)
                // finds it; if the commit fails the entry is dropped below before the version can be reached again.
                cache.store(state, version: version)
                cached = true
                return (events, state)
            }
        } catch {
            if cached { cache.forget(branchID) }
            throw error
        }
    }

    /// The branch's state at `version`: from the cache when it holds that version, else from the database.
    private func cachedState(_ branchID: BranchID, version: Int64?, organizationID: Int64?, sql: any SQLDatabase) async throws -> BranchState {
        if let version, let cached = cache.state(of: branchID, version: version),
            organizationID == nil || cached.branch.organizationID == organizationID
        {
            return cached
        }
        return try await loadState(branchID, organizationID: organizationID, sql: sql)
    }

    /// Raises a branch's version: every change to its set-up or tickets does, in its own transaction.
    func bumpVersion(of branchID: BranchID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE branches SET version = version + 1 WHERE id = \(bind: branchID)").run()
    }

    /// Serialises every command on one branch (the row lock of the update on PostgreSQL; SQLite has one writer
    /// anyway) and raises its version in the same statement; returns the new version, or nil when there is no such
    /// branch. A command that changes nothing still raises it, which only costs other nodes one reload.
    func lockAndRaiseVersion(of branchID: BranchID, in transaction: Transaction) async throws -> Int64? {
        try await transaction.sql.raw("UPDATE branches SET version = version + 1 WHERE id = \(bind: branchID) RETURNING version").first()?
            .decode(column: "version", as: Int64.self)
    }

    /// The branch with its services, queues and active tickets; 404 when it is not there (or not in the organization).
    public func loadState(_ branchID: BranchID, organizationID: Int64?, sql: any SQLDatabase) async throws -> BranchState {
        guard let branch = try await branch(branchID, sql: sql), organizationID == nil || branch.organizationID == organizationID else {
            throw QueueRuleViolation.unknownBranch(branchID)
        }
        let tickets = try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.ticketColumns) FROM tickets WHERE branch_id = \(bind: branchID) AND state IN ('waiting', 'held', 'called', 'serving')
            """
        ).all().map(Self.ticket(from:))
        return BranchState(
            branch: branch,
            services: try await services(of: branchID, sql: sql),
            queues: try await queues(of: branchID, sql: sql),
            tickets: tickets
        )
    }

    public func state(of branchID: BranchID, organizationID: Int64?) async throws -> BranchState {
        try await storage.read { sql in try await state(of: branchID, organizationID: organizationID, sql: sql) }
    }

    /// The branch's state read on `sql` (inside a transaction that must not wait for a second connection), cached.
    func state(of branchID: BranchID, organizationID: Int64?, sql: any SQLDatabase) async throws -> BranchState {
        let version = try await sql.raw("SELECT version FROM branches WHERE id = \(bind: branchID)").first()?.decode(column: "version", as: Int64.self)
        return try await cachedState(branchID, version: version, organizationID: organizationID, sql: sql)
    }

    // MARK: Tickets

    /// Writes a new waiting ticket, numbered the day's next for its prefix at the branch in one statement (a ticket
    /// transferred to another service keeps its number, so numbering per service would reuse it).
    func insertTicket(
        branchID: BranchID,
        service: Service,
        queueID: QueueID?,
        customerClass: CustomerClass,
        channel: Channel,
        day: String,
        in transaction: Transaction
    ) async throws -> Ticket {
        let token = RandomToken.make(bytes: 18)
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO tickets (branch_id, token, prefix, sequence, day, service_id, queue_id, customer_class, channel, state, issued_at_ms)
                SELECT \(bind: branchID), \(bind: token), \(bind: service.prefix), COALESCE(MAX(sequence), 0) + 1, \(bind: day), \(bind: service.id), CAST(\(bind: queueID) AS BIGINT),
                       \(bind: customerClass.rawValue), \(bind: channel.rawValue), 'waiting', \(bind: transaction.timeMs)
                FROM tickets WHERE branch_id = \(bind: branchID) AND day = \(bind: day) AND prefix = \(bind: service.prefix)
                RETURNING id, sequence
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new ticket's id") }
        return Ticket(
            id: try row.decode(column: "id", as: Int64.self),
            branchID: branchID,
            token: token,
            number: TicketNumber(prefix: service.prefix, sequence: try row.decode(column: "sequence", as: Int.self)),
            serviceID: service.id,
            queueID: nil,
            customerClass: customerClass,
            channel: channel,
            state: .waiting,
            issuedAtMs: transaction.timeMs
        )
    }

    public func ticket(token: String) async throws -> Ticket? {
        try await storage.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.ticketColumns) FROM tickets WHERE token = \(bind: token)").first().map(Self.ticket(from:))
        }
    }

    public func ticket(id: TicketID) async throws -> Ticket? {
        try await storage.read { sql in try await ticket(id, sql: sql) }
    }

    func ticket(_ id: TicketID, sql: any SQLDatabase) async throws -> Ticket? {
        try await sql.raw("SELECT \(unsafeRaw: Self.ticketColumns) FROM tickets WHERE id = \(bind: id)").first().map(Self.ticket(from:))
    }

    /// Keeps the steps of a change in the tickets' history, stamped with the transaction's time and who did it.
    /// One statement for all the steps of a command.
    func insertSteps(_ steps: [TicketStep], by actor: StaffID?, in transaction: Transaction) async throws {
        guard !steps.isEmpty else { return }
        var query: SQLQueryString =
            "INSERT INTO ticket_steps (ticket_id, branch_id, step, at_ms, user_id, queue_id, service_id, from_queue_id, from_service_id) VALUES "
        for (index, step) in steps.enumerated() {
            query.appendInterpolation(unsafeRaw: index > 0 ? ", " : "")
            query.appendInterpolation(
                """
                (\(bind: step.ticketID), \(bind: step.branchID), \(bind: step.step), \(bind: transaction.timeMs), \(bind: actor),
                 \(bind: step.queueID), \(bind: step.serviceID), \(bind: step.fromQueueID), \(bind: step.fromServiceID))
                """ as SQLQueryString
            )
        }
        try await transaction.sql.raw(query).run()
    }

    /// When a counter was last opened, and by whom.
    func openedAt(of queueID: QueueID, sql: any SQLDatabase) async throws -> (atMs: Int64, by: StaffID?)? {
        guard let row = try await sql.raw("SELECT opened_at_ms, opened_by FROM queues WHERE id = \(bind: queueID)").first(),
            let atMs = try row.decode(column: "opened_at_ms", as: Int64?.self)
        else { return nil }
        return (atMs, try row.decode(column: "opened_by", as: Int64?.self))
    }

    /// A ticket's history, oldest step first, with the time of each.
    func steps(of ticketID: TicketID) async throws -> [(step: TicketStep, atMs: Int64, userID: StaffID?)] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT ticket_id, branch_id, step, at_ms, user_id, queue_id, service_id, from_queue_id, from_service_id
                FROM ticket_steps WHERE ticket_id = \(bind: ticketID) ORDER BY id
                """
            ).all().map { row in
                (
                    TicketStep(
                        ticketID: try row.decode(column: "ticket_id", as: Int64.self),
                        branchID: try row.decode(column: "branch_id", as: Int64.self),
                        step: try row.decode(column: "step", as: String.self),
                        serviceID: try row.decode(column: "service_id", as: Int64.self),
                        queueID: try row.decode(column: "queue_id", as: Int64?.self),
                        fromQueueID: try row.decode(column: "from_queue_id", as: Int64?.self),
                        fromServiceID: try row.decode(column: "from_service_id", as: Int64?.self)
                    ),
                    try row.decode(column: "at_ms", as: Int64.self),
                    try row.decode(column: "user_id", as: Int64?.self)
                )
            }
        }
    }

    /// Stores a served ticket's rating; false when it has one already.
    /// Records a served ticket's rating; false when it was rated already.
    func rate(_ ticketID: TicketID, rating: Int, comment: String?, in transaction: Transaction) async throws -> Bool {
        try await transaction.sql.raw(
            """
            UPDATE tickets SET rating = \(bind: rating), comment = \(bind: comment) WHERE id = \(bind: ticketID) AND state = 'served' AND rating IS NULL RETURNING id
            """
        ).first() != nil
    }

    /// The staff member who finished serving a ticket, if one did.
    func servedBy(_ ticketID: TicketID, sql: any SQLDatabase) async throws -> StaffID? {
        try await sql.raw(
            "SELECT user_id FROM ticket_steps WHERE ticket_id = \(bind: ticketID) AND step IN ('served', 'no_show') ORDER BY id DESC LIMIT 1"
        ).first()?.decode(column: "user_id", as: Int64?.self)
    }

    func update(_ ticket: Ticket, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE tickets SET service_id = \(bind: ticket.serviceID), queue_id = \(bind: ticket.queueID), state = \(bind: ticket.state.rawValue),
                called_at_ms = \(bind: ticket.calledAtMs), started_at_ms = \(bind: ticket.startedAtMs), finished_at_ms = \(bind: ticket.finishedAtMs),
                recall_count = \(bind: ticket.recallCount), held_reason = \(bind: ticket.heldReason),
                transferred_at_ms = \(bind: ticket.transferredAtMs),
                last_called_at_ms = COALESCE(\(bind: ticket.calledAtMs), last_called_at_ms),
                last_called_queue_id = CASE WHEN \(bind: ticket.calledAtMs) IS NULL THEN last_called_queue_id ELSE \(bind: ticket.queueID) END
            WHERE id = \(bind: ticket.id)
            """
        ).run()
    }

    static let ticketColumns = """
        id, branch_id, token, prefix, sequence, service_id, queue_id, customer_class, channel, state, issued_at_ms,
        called_at_ms, started_at_ms, finished_at_ms, recall_count, held_reason, transferred_at_ms
        """

    static func ticket(from row: any SQLRow) throws -> Ticket {
        Ticket(
            id: try row.decode(column: "id", as: Int64.self),
            branchID: try row.decode(column: "branch_id", as: Int64.self),
            token: try row.decode(column: "token", as: String.self),
            number: TicketNumber(prefix: try row.decode(column: "prefix", as: String.self), sequence: try row.decode(column: "sequence", as: Int.self)),
            serviceID: try row.decode(column: "service_id", as: Int64.self),
            queueID: try row.decode(column: "queue_id", as: Int64?.self),
            customerClass: CustomerClass(rawValue: try row.decode(column: "customer_class", as: String.self)) ?? .regular,
            channel: Channel(rawValue: try row.decode(column: "channel", as: String.self)) ?? .kiosk,
            state: TicketState(rawValue: try row.decode(column: "state", as: String.self)) ?? .waiting,
            issuedAtMs: try row.decode(column: "issued_at_ms", as: Int64.self),
            calledAtMs: try row.decode(column: "called_at_ms", as: Int64?.self),
            startedAtMs: try row.decode(column: "started_at_ms", as: Int64?.self),
            finishedAtMs: try row.decode(column: "finished_at_ms", as: Int64?.self),
            recallCount: try row.decode(column: "recall_count", as: Int.self),
            heldReason: try row.decode(column: "held_reason", as: String?.self),
            transferredAtMs: try row.decode(column: "transferred_at_ms", as: Int64?.self)
        )
    }
}

/// Branch states by id, each with the version it was current at. The two newest versions are kept: while a
/// command's state waits for its commit, readers still find the one the database shows.
final class BranchStateCache: Sendable {
    private let entries = Mutex<[BranchID: [(version: Int64, state: BranchState)]]>([:])

    func state(of branchID: BranchID, version: Int64) -> BranchState? {
        entries.withLock { entries in
            entries[branchID]?.first { $0.version == version }?.state
        }
    }

    func store(_ state: BranchState, version: Int64) {
        entries.withLock { entries in
            var versions = entries[state.branch.id, default: []].filter { $0.version != version }
            versions.append((version, state))
            versions.sort { $0.version > $1.version }
            entries[state.branch.id] = Array(versions.prefix(2))
        }
    }

    func forget(_ branchID: BranchID) {
        entries.withLock { _ = $0.removeValue(forKey: branchID) }
    }
}

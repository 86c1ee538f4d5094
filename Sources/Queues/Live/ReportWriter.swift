import Foundation
import Logging
import SQLKit
import ServiceLifecycle
import TurnoCore

/// Counts committed ticket events into the report cells, from the event log (the transactional outbox), so that
/// serving a customer does not wait for the reports. Its position in the log is kept with the cells, in the same
/// transaction as what it counted: after a crash it goes on from there, and several nodes counting at once take
/// turns on that row, so every event counts exactly once. Reports call `catchUp` before reading, so they never miss
/// a change that has committed.
public struct ReportWriter: Sendable {
    let store: QueueStore
    /// Events counted per transaction.
    let batch: Int

    init(store: QueueStore, batch: Int = 2_000) {
        self.store = store
        self.batch = batch
    }

    /// The events that change the reports; a ticket's other events (calls, recalls, holds) do not.
    static let countedTypes = ["ticket.issued", "ticket.transferred", "ticket.served", "ticket.no_show", "ticket.cancelled", "ticket.expired"]

    /// Counts every ticket event committed so far, or at most `batches` batches of them. With `unlessBusy` (the
    /// background loop) it leaves the work to whoever is counting already instead of waiting for them.
    public func catchUp(unlessBusy: Bool = false, batches: Int = .max) async throws {
        let head = try await store.storage.latestSequence()
        var counted = 0
        while counted < batches, try await store.reportProgress() < head {
            guard try await countBatch(upTo: head, unlessBusy: unlessBusy) else { return }
            counted += 1
        }
    }

    /// Counts the next events up to `head`, at most `batch` of them, in one transaction; false when `unlessBusy` and
    /// another transaction holds the cells.
    func countBatch(upTo head: Int64, unlessBusy: Bool) async throws -> Bool {
        try await store.storage.write { transaction in
            guard let last = try await store.lockReportCells(in: transaction, unlessBusy: unlessBusy) else { return false }
            guard last < head else { return true }
            let rows = try await transaction.sql.raw(
                """
                SELECT seq, type, data, time_ms FROM events WHERE seq > \(bind: last) AND seq <= \(bind: head) AND type IN (\(binds: Self.countedTypes))
                ORDER BY seq LIMIT \(unsafeRaw: String(batch))
                """
            ).all()
            let events = try rows.map { row in
                (
                    sequence: try row.decode(column: "seq", as: Int64.self),
                    type: try row.decode(column: "type", as: String.self),
                    ticket: try JSONCoding.decoder.decode(CountedTicket.self, from: Data(try row.decode(column: "data", as: String.self).utf8)),
                    timeMs: try row.decode(column: "time_ms", as: Int64.self)
                )
            }
            let actors = try await actors(of: events.map(\.ticket.id), sql: transaction.sql)
            var branches: [BranchID: (timeZone: String, targets: [ServiceID: Int])] = [:]
            var contributions: [(ReportCellKey, ReportFigures)] = []
            for event in events {
                let branchID = event.ticket.branchId
                if branches[branchID] == nil, let branch = try await store.branch(branchID, sql: transaction.sql) {
                    let services = try await store.services(of: branchID, sql: transaction.sql)
                    branches[branchID] = (branch.timeZone, Dictionary(uniqueKeysWithValues: services.map { ($0.id, $0.targetWaitSeconds) }))
                }
                guard let branch = branches[branchID], let counted = event.ticket.queueEvent(type: event.type) else { continue }
                contributions += ReportContributions.of(
                    counted,
                    actor: actors["\(event.ticket.id) \(event.type.dropFirst("ticket.".count)) \(event.timeMs)"] ?? nil,
                    targetWaitSeconds: branch.targets[event.ticket.serviceId],
                    timeZone: branch.timeZone
                )
            }
            try await store.addToReports(contributions, in: transaction, locked: true)
            // A full batch stops at its last event; a shorter one has read everything up to `head`.
            try await store.setReportProgress(events.count == batch ? events.last!.sequence : head, in: transaction)
            return true
        }
    }

    /// Who took the steps of these tickets that have one, keyed `ticket step time`: the staff member the ticket's
    /// history records (the event and its step carry the same transaction time).
    private func actors(of tickets: [TicketID], sql: any SQLDatabase) async throws -> [String: StaffID?] {
        let tickets = Array(Set(tickets))
        var actors: [String: StaffID?] = [:]
        for start in stride(from: 0, to: tickets.count, by: 500) {
            let query: SQLQueryString = """
                SELECT ticket_id, step, at_ms, user_id FROM ticket_steps
                WHERE ticket_id IN (\(binds: Array(tickets[start..<min(start + 500, tickets.count)]))) AND step IN ('served', 'no_show', 'transferred', 'cancelled')
                """
            for row in try await sql.raw(query).all() {
                let ticket = try row.decode(column: "ticket_id", as: Int64.self)
                let key = "\(ticket) \(try row.decode(column: "step", as: String.self)) \(try row.decode(column: "at_ms", as: Int64.self))"
                actors[key] = try row.decode(column: "user_id", as: Int64?.self)
            }
        }
        return actors
    }
}

/// What the reports read of a ticket event's data (`TicketEventData`); events written before a field existed lack it.
struct CountedTicket: Decodable {
    var id: TicketID
    var branchId: BranchID
    var serviceId: ServiceID
    var queueId: QueueID?
    var state: TicketState
    var issuedAt: Date
    var calledAt: Date?
    var startedAt: Date?
    var finishedAt: Date?
    var fromServiceId: ServiceID?
    var fromQueueId: QueueID?

    /// The engine's event this was, with the ticket as far as the reports read it: its number, token, class and
    /// channel do not count, and are left neutral.
    func queueEvent(type: String) -> QueueEvent? {
        let ticket = Ticket(
            id: id,
            branchID: branchId,
            token: "",
            number: TicketNumber(prefix: "", sequence: 0),
            serviceID: serviceId,
            queueID: queueId,
            customerClass: .regular,
            channel: .kiosk,
            state: state,
            issuedAtMs: issuedAt.milliseconds,
            calledAtMs: calledAt?.milliseconds,
            startedAtMs: startedAt?.milliseconds,
            finishedAtMs: finishedAt?.milliseconds
        )
        switch type {
        case "ticket.issued": return .ticketIssued(ticket)
        case "ticket.transferred": return fromServiceId.map { .ticketTransferred(ticket, fromService: $0, fromQueue: fromQueueId) }
        case "ticket.served": return .ticketServed(ticket)
        case "ticket.no_show": return .ticketNoShow(ticket)
        case "ticket.cancelled": return .ticketCancelled(ticket)
        case "ticket.expired": return .ticketExpired(ticket)
        default: return nil
        }
    }
}

/// Keeps the report cells caught up with the event log, every second, on every node (a node finding another one
/// counting skips its turn). Reports catch up by themselves, so this only keeps their wait short.
struct ReportWriterService: ServiceLifecycle.Service {
    let writer: ReportWriter
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await writer.catchUp(unlessBusy: true)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("counting ticket events into the reports failed; will retry", metadata: ["error": "\(loggable(error))"])
                }
                // Real time: this polls the database, it is not a time of day.
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

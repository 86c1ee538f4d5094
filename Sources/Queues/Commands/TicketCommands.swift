import Synchronization
import TurnoCore

/// What a customer does with a ticket (or a kiosk, or staff on their behalf): take one, give it up, rate the visit.
/// Taking and giving up are commands on the branch (`QueueStore.perform`: one transaction, the branch locked).
struct TicketCommands: Sendable {
    let store: QueueStore

    /// Issues a ticket, numbered and routed to the least-loaded open counter that serves its service. With an
    /// idempotency key this caller already used for the same request, returns that ticket instead (`isNew` false).
    func issue(
        branchID: BranchID,
        serviceID: ServiceID,
        customerClass: CustomerClass,
        channel: Channel,
        idempotencyKey: IdempotencyKey?,
        by actor: StaffID?
    ) async throws -> (ticket: Ticket, state: BranchState, isNew: Bool) {
        let replayed = Mutex<TicketID?>(nil)
        let (events, state) = try await store.perform(on: branchID, organizationID: nil, by: actor) { state, transaction in
            if let idempotencyKey, case .replay(let id) = try await transaction.claim(idempotencyKey, for: "ticket") {
                replayed.withLock { $0 = TicketID(id) }
                return []
            }
            guard let service = state.services[serviceID] else { throw QueueRuleViolation.unknownService(serviceID) }
            // Staff may still let a customer in after hours; kiosks, the web and the bot keep to them.
            if channel != .staff, let hours = state.branch.openingHours {
                try hours.checkTakesTickets(atMs: transaction.timeMs, timeZone: state.branch.timeZone)
            }
            // Routed before it is written, so that the row is inserted once, complete.
            let queueID = try state.route(serviceID)
            let ticket = try await store.insertTicket(
                branchID: branchID,
                service: service,
                queueID: queueID,
                customerClass: customerClass,
                channel: channel,
                day: LocalDay.of(transaction.timeMs, timeZone: state.branch.timeZone),
                in: transaction
            )
            if let idempotencyKey { try await transaction.remember(idempotencyKey, made: "ticket", id: ticket.id) }
            let events = try state.issue(ticket, nowMs: transaction.timeMs)
            assert(events.first?.ticket?.queueID == queueID, "routing is deterministic")
            return events
        }
        if let id = replayed.withLock({ $0 }) {
            guard let earlier = try await store.ticket(id: id) else { throw DatabaseUnavailable("the ticket of an earlier request is gone") }
            return (earlier, state, false)
        }
        guard let ticket = events.first?.ticket else { throw DatabaseUnavailable("issuing produced no ticket") }
        return (ticket, state, true)
    }

    /// Gives up a ticket that is still waiting, held or called (its holder, with its link: no staff member).
    func cancel(_ ticket: Ticket) async throws -> (ticket: Ticket, state: BranchState) {
        // Checked first: a ticket already served or cancelled has left the branch's state, which would call it unknown.
        guard ticket.state.isActive else {
            throw QueueRuleViolation.invalidTransition(ticket: ticket.number.description, state: ticket.state, action: "cancelled")
        }
        let (events, state) = try await store.perform(on: ticket.branchID, organizationID: nil, by: nil) { state, transaction in
            try state.cancel(ticket.id, nowMs: transaction.timeMs)
        }
        return (events.last!.ticket!, state)
    }

    /// Rates a served ticket's visit, once.
    func rate(_ ticket: Ticket, rating: Int, comment: String?) async throws {
        try TicketRating.check(rating: rating, comment: comment, of: ticket)
        guard let branch = try await store.branch(ticket.branchID) else { throw QueueRuleViolation.unknownBranch(ticket.branchID) }
        try await store.storage.write { transaction in
            guard try await store.rate(ticket.id, rating: rating, comment: comment, in: transaction) else {
                throw QueueRuleViolation.alreadyRated(ticket: ticket.number.description)
            }
            let servedBy = try await store.servedBy(ticket.id, sql: transaction.sql)
            let feedback = ReportContributions.feedback(on: ticket, userID: servedBy, rating: rating, complaint: false, timeZone: branch.timeZone)
            try await store.addToReports(feedback, in: transaction)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import TurnoCore

/// What customers, kiosks and displays use, without signing in: `POST /api/v1/branches/{id}/tickets`,
/// `GET|DELETE /api/v1/tickets/{token}`, `POST /api/v1/tickets/{token}/rating`, `GET /api/v1/branches/{id}/snapshot`.
struct PublicTicketsController: Sendable {
    let store: QueueStore
    let storage: Storage
    let hub: LiveHub
    let limiter: RateLimiter
    let anonymousIssueLimit: RateLimiter.Limit?

    struct IssueRequest: Decodable {
        var service: ServiceID
        var `class`: CustomerClass?
        var channel: Channel?
    }

    struct RatingRequest: Decodable {
        var rating: Int
        var comment: String?
    }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1")
        api.post("/branches/:branch/tickets") { request, context -> Response in
            guard let branchID = context.parameters.get("branch", as: Int64.self) else { throw Problem.notFound("there is no such branch") }
            let principal = context.principal
            // Kiosks (API key with tickets:issue) and staff are trusted; anonymous callers are limited per address.
            let trusted = principal?.role != nil || principal?.scopes.contains(.ticketsIssue) == true
            if !trusted, let limit = anonymousIssueLimit, let retryAfter = limiter.take("tickets " + context.clientAddress, limit: limit) {
                throw Problem(.tooManyRequests, title: "Too many tickets", detail: "this address has taken many tickets; try again in \(retryAfter) seconds",
                              headers: [.retryAfter: String(retryAfter)])
            }
            let body = try await request.decode(as: IssueRequest.self, context: context)
            if let principal, let branch = try await store.branch(branchID), branch.organizationID != principal.organizationID {
                throw Problem.notFound("there is no branch \(branchID)")
            }
            let key = request.headers[.idempotencyKey]
            if let key, key.count > 200 { throw Problem.badRequest("Idempotency-Key must have at most 200 characters") }
            let channel = principal?.role != nil ? Channel.staff : (body.channel ?? .online)
            let (ticket, state, isNew) = try await store.issueTicket(
                branchID: branchID, serviceID: body.service, customerClass: body.class ?? .regular, channel: channel, idempotencyKey: key
            )
            let status = TicketStatus(ticket, in: state)
            return try Response.json(IssuedTicket(ticket, status: status), status: isNew ? .created : .ok)
        }
        api.get("/tickets/:ticket") { _, context -> TicketStatus in
            let (ticket, state) = try await ticketByToken(context)
            return TicketStatus(ticket, in: state)
        }
        api.delete("/tickets/:ticket") { _, context -> TicketStatus in
            let (ticket, _) = try await ticketByToken(context)
            guard ticket.state.isActive else {
                throw Problem.conflict("ticket \(ticket.number) is \(ticket.state.rawValue.replacingOccurrences(of: "_", with: "-")), so it cannot be cancelled")
            }
            let (events, state) = try await store.perform(on: ticket.branchID, organizationID: nil) { state, transaction in
                try state.cancel(ticket.id, nowMs: transaction.timeMs)
            }
            return TicketStatus(events.last!.ticket!, in: state)
        }
        api.post("/tickets/:ticket/rating") { request, context -> Response in
            let body = try await request.decode(as: RatingRequest.self, context: context)
            guard (1...5).contains(body.rating) else { throw Problem.unprocessable("`rating` must be 1 to 5 stars") }
            if let comment = body.comment, comment.count > 1_000 { throw Problem.unprocessable("`comment` must have at most 1000 characters") }
            let (ticket, _) = try await ticketByToken(context)
            guard ticket.state == .served else { throw Problem.conflict("ticket \(ticket.number) can be rated once it has been served") }
            guard try await store.rate(token: ticket.token, rating: body.rating, comment: body.comment) else {
                throw Problem.conflict("ticket \(ticket.number) has already been rated")
            }
            return Response(status: .noContent)
        }
        api.get("/branches/:branch/snapshot") { _, context -> BranchSnapshot in
            guard let branchID = context.parameters.get("branch", as: Int64.self) else { throw Problem.notFound("there is no such branch") }
            let liveID = await hub.latestSequence
            let state = try await store.state(of: branchID, organizationID: nil)
            return try await snapshot(of: state, liveID: liveID)
        }
    }

    private func ticketByToken(_ context: TurnoRequestContext) async throws -> (Ticket, BranchState) {
        guard let token = context.parameters.get("ticket"), token.count <= 64, let ticket = try await store.ticket(token: token) else {
            throw Problem.notFound("there is no ticket with this link; it may have been mistyped")
        }
        return (ticket, try await store.state(of: ticket.branchID, organizationID: nil))
    }

    func snapshot(of state: BranchState, liveID: Int64) async throws -> BranchSnapshot {
        let branch = state.branch
        let waitingByQueue = state.waitingPerQueue
        let queues = state.queues.values.sorted { Routing.counterPrecedes($0, $1) }.map { queue in
            BranchSnapshot.QueueView(
                id: queue.id, name: queue.name, counter: queue.counter, state: queue.state, serviceIds: queue.serviceIDs.sorted(),
                nowServing: state.current(at: queue.id)?.number.description,
                waiting: branch.routingMode == .dedicated ? waitingByQueue[queue.id] ?? 0 : state.line(of: queue.id).count
            )
        }
        let services = state.services.values.sorted { $0.id < $1.id }.map { service in
            BranchSnapshot.ServiceView(
                id: service.id, name: service.name, prefix: service.prefix,
                waiting: state.waitingCount(of: service.id),
                available: branch.isOpen && state.hasOpenQueue(for: service.id)
            )
        }
        let since = WallClock.nowMilliseconds() - 12 * 3_600_000
        let calls = try await storage.read { sql in
            try await sql.raw("""
                SELECT prefix, sequence, queue_id, called_at_ms FROM tickets
                WHERE branch_id = \(bind: branch.id) AND called_at_ms IS NOT NULL AND called_at_ms > \(bind: since)
                ORDER BY called_at_ms DESC LIMIT 10
                """).all().map { row in
                let number = TicketNumber(prefix: try row.decode(column: "prefix", as: String.self), sequence: try row.decode(column: "sequence", as: Int.self))
                return BranchSnapshot.Call(
                    number: number.description, spoken: number.spoken,
                    counter: try row.decode(column: "queue_id", as: Int64?.self).flatMap { state.queues[$0]?.counter },
                    calledAt: Date(timeIntervalSince1970: Double(try row.decode(column: "called_at_ms", as: Int64.self)) / 1000)
                )
            }
        }
        return BranchSnapshot(
            branchId: branch.id, name: branch.name, language: branch.language, timeZone: branch.timeZone, isOpen: branch.isOpen,
            routingMode: branch.routingMode, queues: queues, services: services, lastCalls: calls, liveId: liveID
        )
    }
}

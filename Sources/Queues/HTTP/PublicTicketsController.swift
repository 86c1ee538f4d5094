import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import TurnoCore

/// What customers, kiosks and displays use, without signing in: `POST /api/v1/branches/{id}/tickets`,
/// `GET|DELETE /api/v1/tickets/{token}`, `POST /api/v1/tickets/{token}/rating`, `GET /api/v1/branches/{id}/snapshot`.
struct PublicTicketsController: Sendable {
    let store: QueueStore
    let hub: LiveHub
    let limiter: RateLimiter
    let anonymousIssueLimit: RateLimiter.Limit?

    struct IssueRequest: Decodable {
        var service: ServiceID
        var `class`: CustomerClass?
    }

    struct RatingRequest: Decodable {
        var rating: Int
        var comment: String?
    }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1")
        api.post("/branches/:branch/tickets") { request, context -> Response in
            var request = request
            let principal = context.principal
            // Kiosks (API key with tickets:issue) and staff are trusted; anonymous callers are limited per address.
            let trusted = principal?.role != nil || principal?.scopes.contains(.ticketsIssue) == true
            if !trusted, let limit = anonymousIssueLimit, let retryAfter = limiter.take("tickets " + context.clientAddress, limit: limit) {
                throw Problem(
                    .tooManyRequests,
                    title: "Too many tickets",
                    detail: "this address has taken many tickets; try again in \(retryAfter) seconds",
                    headers: [.retryAfter: String(retryAfter)]
                )
            }
            let branch = try await publicBranch(context)
            let key = try await request.idempotencyKey(context: context)
            let body = try await request.decode(as: IssueRequest.self, context: context)
            let customerClass = body.class ?? .regular
            let mayGiveAnyClass = principal?.role != nil || principal?.scopes.contains(.ticketsClasses) == true
            guard mayGiveAnyClass || branch.selfServiceClasses.contains(customerClass) else {
                let allowed = branch.orderedSelfServiceClasses.map(\.rawValue).joined(separator: ", ")
                throw Problem(
                    .forbidden,
                    detail: "customers cannot choose the class \(customerClass.rawValue) at this branch (they may choose \(allowed)); staff give the others"
                )
            }
            // Who calls decides the channel: staff at the desk, a kiosk or bot with its key, anyone else online.
            let channel: Channel = principal?.role != nil ? .staff : principal != nil ? .kiosk : .online
            let (ticket, state, isNew) = try await store.issueTicket(
                branchID: branch.id,
                serviceID: body.service,
                customerClass: customerClass,
                channel: channel,
                idempotencyKey: key
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
                throw Problem.conflict(
                    "ticket \(ticket.number) is \(ticket.state.rawValue.replacingOccurrences(of: "_", with: "-")), so it cannot be cancelled"
                )
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
            let liveID = await hub.latestSequence
            let branch = try await publicBranch(context)
            return try await snapshot(of: try await store.state(of: branch.id, organizationID: nil), liveID: liveID)
        }
    }

    /// The branch in the path: by its public id for anyone; staff and keys may also use its numeric id in their organization.
    func publicBranch(_ context: TurnoRequestContext) async throws -> Branch {
        let parameter = context.parameters.get("branch") ?? ""
        if let principal = context.principal, let id = Int64(parameter), let branch = try await store.branch(id),
            branch.organizationID == principal.organizationID
        {
            return branch
        }
        guard parameter.count <= 64, let branch = try await store.branch(publicID: parameter) else {
            throw Problem.notFound("there is no branch \(parameter); public URLs use the branch's public id (public_id)")
        }
        return branch
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
                id: queue.id,
                name: queue.name,
                counter: queue.counter,
                state: queue.state,
                serviceIds: queue.serviceIDs.sorted(),
                nowServing: state.current(at: queue.id)?.number.description,
                waiting: branch.routingMode == .dedicated ? waitingByQueue[queue.id] ?? 0 : state.line(of: queue.id).count
            )
        }
        let services = state.services.values.sorted { $0.id < $1.id }.map { service in
            BranchSnapshot.ServiceView(
                id: service.id,
                name: service.name,
                prefix: service.prefix,
                waiting: state.waitingCount(of: service.id),
                available: branch.isOpen && state.hasOpenQueue(for: service.id)
            )
        }
        let since = WallClock.nowMilliseconds() - 12 * 3_600_000
        let calls = try await store.lastCalls(branchID: branch.id, sinceMs: since, limit: 10).map { call in
            BranchSnapshot.Call(
                number: call.number.description,
                spoken: call.number.spoken,
                counter: call.queueID.flatMap { state.queues[$0]?.counter },
                calledAt: Date(timeIntervalSince1970: Double(call.atMs) / 1000)
            )
        }
        return BranchSnapshot(
            branchId: branch.id,
            publicId: branch.publicID,
            name: branch.name,
            language: branch.language,
            timeZone: branch.timeZone,
            isOpen: branch.isOpen,
            routingMode: branch.routingMode,
            selfServiceClasses: branch.orderedSelfServiceClasses,
            queues: queues,
            services: services,
            lastCalls: calls,
            liveId: liveID
        )
    }
}

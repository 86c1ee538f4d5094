import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import TurnoCore

/// What customers, kiosks and displays use, without signing in: `POST /api/v1/branches/{branch}/tickets`,
/// `GET|DELETE /api/v1/tickets/{ticket}`, `POST /api/v1/tickets/{ticket}/rating` (by the ticket's token),
/// `GET /api/v1/branches/{branch}/snapshot`.
struct PublicTicketsController: Sendable {
    let store: QueueStore
    let commands: TicketCommands
    let hub: LiveHub
    let limiter: RateLimiter
    let anonymousIssueLimit: RateLimiter.Limit?
    /// The time of day, from the server's clock.
    let clock: any ServerClock

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
        api.post("/branches/:branch/tickets", use: issueTicket)
        api.get("/tickets/:ticket", use: showTicket)
        api.delete("/tickets/:ticket", use: cancelTicket)
        api.post("/tickets/:ticket/rating", use: rateTicket)
        api.get("/branches/:branch/snapshot", use: branchSnapshot)
    }

    @Sendable func issueTicket(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        var request = request
        let principal = context.principal
        try limitAnonymousIssues(context)
        let branch = try await publicBranch(context)
        let key = try await request.idempotencyKey(context: context)
        let body = try await request.decode(as: IssueRequest.self, context: context)
        let customerClass = body.class ?? .regular
        try checkClass(customerClass, at: branch, principal: principal)
        // Who calls decides the channel: staff at the desk, a kiosk or bot with its key, anyone else online.
        let channel: Channel = principal?.role != nil ? .staff : principal != nil ? .kiosk : .online
        let (ticket, state, isNew) = try await commands.issue(
            branchID: branch.id,
            serviceID: body.service,
            customerClass: customerClass,
            channel: channel,
            idempotencyKey: key,
            by: principal?.userID
        )
        let status = TicketStatus(ticket, in: state)
        return try Response.json(IssuedTicket(ticket, status: status), status: isNew ? .created : .ok)
    }

    @Sendable func showTicket(_ request: Request, context: TurnoRequestContext) async throws -> TicketStatus {
        let ticket = try await store.ticket(linkedFrom: context)
        return TicketStatus(ticket, in: try await store.state(of: ticket.branchID, organizationID: nil))
    }

    @Sendable func cancelTicket(_ request: Request, context: TurnoRequestContext) async throws -> TicketStatus {
        let ticket = try await store.ticket(linkedFrom: context)
        let (cancelled, state) = try await commands.cancel(ticket)
        return TicketStatus(cancelled, in: state)
    }

    @Sendable func rateTicket(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: RatingRequest.self, context: context)
        let ticket = try await store.ticket(linkedFrom: context)
        try await commands.rate(ticket, rating: body.rating, comment: body.comment)
        return Response(status: .noContent)
    }

    @Sendable func branchSnapshot(_ request: Request, context: TurnoRequestContext) async throws -> BranchSnapshot {
        let liveID = await hub.latestSequence
        let branch = try await publicBranch(context)
        return try await snapshot(of: try await store.state(of: branch.id, organizationID: nil), liveID: liveID)
    }

    /// Kiosks (API key with tickets:issue) and staff are trusted; anonymous callers are limited per address.
    private func limitAnonymousIssues(_ context: TurnoRequestContext) throws {
        let principal = context.principal
        let trusted = principal?.role != nil || principal?.scopes.contains(.ticketsIssue) == true
        if !trusted, let limit = anonymousIssueLimit, let retryAfter = limiter.take("tickets " + context.clientAddress, limit: limit) {
            throw Problem(
                .tooManyRequests,
                title: "Too many tickets",
                detail: "this address has taken many tickets; try again in \(retryAfter) seconds",
                headers: [.retryAfter: String(retryAfter)]
            )
        }
    }

    /// Customers choose among the branch's self-service classes; staff and keys with tickets:classes give any class.
    private func checkClass(_ customerClass: CustomerClass, at branch: Branch, principal: Principal?) throws {
        let mayGiveAnyClass = principal?.role != nil || principal?.scopes.contains(.ticketsClasses) == true
        guard mayGiveAnyClass || branch.selfServiceClasses.contains(customerClass) else {
            let allowed = branch.orderedSelfServiceClasses.map(\.rawValue).joined(separator: ", ")
            throw Problem(
                .forbidden,
                detail: "customers cannot choose the class \(customerClass.rawValue) at this branch (they may choose \(allowed)); staff give the others"
            )
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
        let opening = branch.openingHours?.status(atMs: clock.nowMilliseconds(), timeZone: branch.timeZone)
        let services = state.services.values.sorted { $0.id < $1.id }.map { service in
            BranchSnapshot.ServiceView(
                id: service.id,
                name: service.name,
                prefix: service.prefix,
                waiting: state.waitingCount(of: service.id),
                available: branch.isOpen && (opening?.takesTickets ?? true) && state.hasOpenQueue(for: service.id)
            )
        }
        let since = clock.nowMilliseconds() - 12 * 3_600_000
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
            opening: opening.map(ScheduleController.OpeningNow.init),
            routingMode: branch.routingMode,
            selfServiceClasses: branch.orderedSelfServiceClasses,
            queues: queues,
            services: services,
            lastCalls: calls,
            liveId: liveID
        )
    }
}

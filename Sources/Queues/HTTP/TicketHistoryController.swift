import Foundation
import Hummingbird
import TurnoCore

/// A branch's past tickets for its managers and admins: `GET /api/v1/branches/{branch}/tickets` (JSON pages, or CSV
/// with `Accept: text/csv`) and `GET /api/v1/branches/{branch}/tickets.csv`, filtered by local days and what the
/// ticket was.
struct TicketHistoryController: Sendable {
    let store: QueueStore
    /// To tell an unknown staff member in the `operator` filter from one who took no ticket.
    let directory: StaffDirectory
    let clock: any ServerClock
    /// CSV exports count against `TURNO_RATE_EXPORTS`, as the other exports do.
    let exportLimit: RateLimitMiddleware

    /// The longest range one request may cover.
    static let maximumDays = 731

    struct TicketView: Codable, Sendable {
        var id: TicketID
        var number: String
        var serviceId: ServiceID
        var service: String?
        var queueId: QueueID?
        var counter: String?
        var state: TicketState
        var customerClass: CustomerClass
        var channel: Channel
        var issuedAt: Date
        var calledAt: Date?
        var startedAt: Date?
        var finishedAt: Date?
        var transferredAt: Date?
        var recallCount: Int
        /// From issue to the first call (or to its end, for one never called).
        var waitedS: Int?
        /// From the start of service to its end.
        var servedS: Int?
        var rating: Int?

        init(_ record: TicketRecord, state branch: BranchState) {
            let ticket = record.ticket
            id = ticket.id
            number = ticket.number.description
            serviceId = ticket.serviceID
            service = branch.services[ticket.serviceID]?.name
            queueId = ticket.queueID
            counter = ticket.queueID.flatMap { branch.queues[$0]?.counter }
            state = ticket.state
            customerClass = ticket.customerClass
            channel = ticket.channel
            issuedAt = Date(milliseconds: ticket.issuedAtMs)
            calledAt = ticket.calledAtMs.map(Date.init(milliseconds:))
            startedAt = ticket.startedAtMs.map(Date.init(milliseconds:))
            finishedAt = ticket.finishedAtMs.map(Date.init(milliseconds:))
            transferredAt = ticket.transferredAtMs.map(Date.init(milliseconds:))
            recallCount = ticket.recallCount
            waitedS = (ticket.calledAtMs ?? ticket.finishedAtMs).map { Int(($0 - ticket.issuedAtMs) / 1000) }
            servedS = ticket.startedAtMs.flatMap { started in ticket.finishedAtMs.map { Int(($0 - started) / 1000) } }
            rating = record.rating
        }

        static let csvHeader = [
            "id", "number", "service_id", "service", "queue_id", "counter", "state", "customer_class", "channel", "issued_at", "called_at",
            "started_at", "finished_at", "transferred_at", "recall_count", "waited_s", "served_s", "rating",
        ]

        var csvFields: [String] {
            func time(_ date: Date?) -> String { date.map { Timestamp.format(milliseconds: $0.milliseconds) } ?? "" }
            func text(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "" }
            return [
                String(id), number, String(serviceId), service ?? "", text(queueId), counter ?? "", state.rawValue, customerClass.rawValue,
                channel.rawValue, time(issuedAt), time(calledAt), time(startedAt), time(finishedAt), time(transferredAt), String(recallCount),
                text(waitedS), text(servedS), text(rating),
            ]
        }
    }

    struct Page: Codable, ResponseEncodable {
        var items: [TicketView]
        var nextCursor: String?
    }

    func add(to router: Router<TurnoRequestContext>) {
        let history = router.group("/api/v1").add(middleware: RequireAccess(.dashboard)).add(middleware: exportLimit)
        // A fixed segment: the router prefers it to `/branches/:branch/tickets`'s own parameter-free path.
        history.get("/branches/:branch/tickets.csv", use: exportTickets)
        history.get("/branches/:branch/tickets", use: listTickets)
    }

    @Sendable func listTickets(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let (branch, state, filter) = try await branchAndFilter(request, context: context)
        if request.headers[.accept]?.contains("text/csv") == true { return csv(branch, state, filter) }
        let records = try await store.tickets(of: branch.id, filter)
        let next = records.count == filter.limit ? records.last.map { String($0.ticket.id) } : nil
        return try Response.json(Page(items: records.map { TicketView($0, state: state) }, nextCursor: next))
    }

    @Sendable func exportTickets(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let (branch, state, filter) = try await branchAndFilter(request, context: context)
        return csv(branch, state, filter)
    }

    private func csv(_ branch: Branch, _ state: BranchState, _ filter: TicketFilter) -> Response {
        let store = self.store
        var first = filter
        first.limit = 1_000
        return CSV.streamedResponse(filename: "tickets.csv", header: TicketView.csvHeader, first: first) { page in
            let records = try await store.tickets(of: branch.id, page)
            let rows = records.map { TicketView($0, state: state).csvFields }
            guard records.count == page.limit, let last = records.last else { return (rows, nil) }
            var following = page
            following.afterID = last.ticket.id
            return (rows, following)
        }
    }

    /// The branch in the path, if the caller works there, its state (for names), and the filter of the query, whose
    /// service, counter and staff member must exist.
    private func branchAndFilter(_ request: Request, context: TurnoRequestContext) async throws -> (Branch, BranchState, TicketFilter) {
        let principal = try context.requirePrincipal()
        guard let branchID = context.parameters.get("branch", as: Int64.self), let branch = try await store.branch(branchID) else {
            throw Problem.notFound("there is no such branch")
        }
        try QueueAccess.check(principal, branch: branch)
        let today = LocalDay.of(clock.nowMilliseconds(), timeZone: branch.timeZone)
        let filter = try TicketQuery.filter(request, today: today)
        let state = try await store.state(of: branch.id, organizationID: branch.organizationID)
        if let service = filter.serviceID, state.services[service] == nil { throw Problem.badRequest("there is no service \(service) at this branch") }
        if let queue = filter.queueID, state.queues[queue] == nil { throw Problem.badRequest("there is no queue \(queue) at this branch") }
        if let user = filter.operatorID, directory.user(id: user)?.organizationID != principal.organizationID {
            throw Problem.badRequest("there is no staff member \(user) in this organization")
        }
        return (branch, state, filter)
    }
}

/// Reads a ticket filter from the query: `from`, `to` (local days, default today), `service`, `queue`, `operator`,
/// `state`, `class`, `channel`, `limit` (1–1000, default 100) and `cursor`.
enum TicketQuery {
    static func filter(_ request: Request, today: String) throws -> TicketFilter {
        let parameters = request.uri.queryParameters
        func day(_ name: String) throws -> String? {
            guard let text = parameters[Substring(name)].map(String.init) else { return nil }
            guard Timestamp.parse(text + "T00:00:00Z") != nil else { throw Problem.badRequest("\(name) must be a date such as 2026-11-21, got `\(text)`") }
            return text
        }
        let number = request.positiveNumber(query:)
        func choice<Value: RawRepresentable & CaseIterable>(_ name: String, _ type: Value.Type) throws -> Value? where Value.RawValue == String {
            guard let text = parameters[Substring(name)] else { return nil }
            guard let value = Value(rawValue: String(text)) else {
                throw Problem.badRequest("`\(text)` is not a \(name); use one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let to = try day("to") ?? today
        let from = try day("from") ?? to
        guard from <= to else { throw Problem.badRequest("from (\(from)) is after to (\(to))") }
        let days = (Timestamp.parse(to + "T00:00:00Z")! - Timestamp.parse(from + "T00:00:00Z")!) / 86_400_000 + 1
        guard days <= TicketHistoryController.maximumDays else {
            throw Problem.badRequest("ask for at most \(TicketHistoryController.maximumDays) days at a time, not \(days)")
        }
        var filter = TicketFilter(fromDay: from, toDay: to)
        filter.serviceID = try number("service")
        filter.queueID = try number("queue")
        filter.operatorID = try number("operator")
        filter.state = try choice("state", TicketState.self)
        filter.customerClass = try choice("class", CustomerClass.self)
        filter.channel = try choice("channel", Channel.self)
        if let limit = try number("limit") {
            guard limit <= 1_000 else { throw Problem.badRequest("limit must be between 1 and 1000, got \(limit)") }
            filter.limit = Int(limit)
        }
        if let text = parameters["cursor"] {
            guard let cursor = Int64(text), cursor >= 0 else { throw Problem.badRequest("the cursor is not one this server gave out, got `\(text)`") }
            filter.afterID = cursor
        }
        return filter
    }
}

import Foundation
import Hummingbird
import TurnoCore

/// Complaints. Customers, with their ticket's link: `POST|GET /api/v1/tickets/{ticket}/complaint`. Managers (their
/// branches) and admins: `GET /api/v1/complaints` (the inbox), `GET|PATCH /api/v1/complaints/{complaint}`.
struct ComplaintsController: Sendable {
    let store: QueueStore
    let commands: ComplaintCommands
    /// Names of the staff members a complaint mentions.
    let directory: StaffDirectory

    struct NewComplaint: Decodable {
        var text: String
    }

    /// Any of: a new state, an assignee (`assignee_id`) or none (`unassign`: true), an internal note, a reply the
    /// customer sees.
    struct ChangeRequest: Decodable {
        var state: ComplaintState?
        var assigneeId: StaffID?
        var unassign: Bool?
        var note: String?
        var reply: String?
    }

    /// What the customer sees of their complaint.
    struct CustomerView: Codable, Sendable, ResponseEncodable {
        var state: ComplaintState
        var text: String?
        var reply: String?
        var createdAt: Date
        var repliedAt: Date?

        init(_ complaint: Complaint) {
            state = complaint.state
            text = complaint.text
            reply = complaint.reply
            createdAt = Date(milliseconds: complaint.createdAtMs)
            repliedAt = complaint.repliedAtMs.map(Date.init(milliseconds:))
        }
    }

    struct NoteView: Codable, Sendable {
        var at: Date
        var by: StaffName?
        var state: ComplaintState?
        var assigneeId: StaffID?
        var unassigned: Bool
        var note: String?
        var reply: String?
    }

    /// What managers see of a complaint; `notes` only when one is shown alone.
    struct StaffView: Codable, Sendable, ResponseEncodable {
        var id: ComplaintID
        var branchId: BranchID
        var branch: String
        var ticketId: TicketID
        var ticketNumber: String
        var service: String?
        var counter: String?
        var servedBy: StaffName?
        var text: String?
        var state: ComplaintState
        var assignee: StaffName?
        var reply: String?
        var createdAt: Date
        var updatedAt: Date
        var notes: [NoteView]?
    }

    struct Page: Codable, Sendable, ResponseEncodable {
        var items: [StaffView]
        var nextCursor: String?
    }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1")
        api.post("/tickets/:ticket/complaint", use: fileComplaint)
        api.get("/tickets/:ticket/complaint", use: showOwnComplaint)
        let inbox = router.group("/api/v1").add(middleware: RequireAccess(.complaints))
        inbox.get("/complaints", use: listComplaints)
        inbox.get("/complaints/:complaint", use: showComplaint)
        inbox.patch("/complaints/:complaint", use: changeComplaint)
    }

    @Sendable func fileComplaint(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: NewComplaint.self, context: context)
        let ticket = try await store.ticket(linkedFrom: context)
        let complaint = try await commands.file(text: body.text, on: ticket, address: context.clientAddress)
        return try Response.json(CustomerView(complaint), status: .created)
    }

    @Sendable func showOwnComplaint(_ request: Request, context: TurnoRequestContext) async throws -> CustomerView {
        let ticket = try await store.ticket(linkedFrom: context)
        guard let record = try await store.complaint(ofTicket: ticket.id) else { throw ComplaintRuleViolation.noComplaint(ticket: ticket.number.description) }
        return CustomerView(record.complaint)
    }

    @Sendable func listComplaints(_ request: Request, context: TurnoRequestContext) async throws -> Page {
        let principal = try context.requirePrincipal()
        let parameters = request.uri.queryParameters
        var branches = try await store.branches(organizationID: principal.organizationID).filter { principal.canAccess(branch: $0.id) }
        if let text = parameters["branch"] {
            guard let id = Int64(text), let branch = branches.first(where: { $0.id == id }) else {
                throw Problem.notFound("there is no branch \(text) you work at")
            }
            branches = [branch]
        }
        var filter = ComplaintFilter(branchIDs: branches.map(\.id), states: [.open, .acknowledged])
        if let text = parameters["state"] {
            filter.states = try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
                guard let state = ComplaintState(rawValue: String(part)) else {
                    throw Problem.badRequest("`\(part)` is not a complaint state; use open, acknowledged or resolved, or several with commas")
                }
                return state
            }
        }
        if let text = parameters["assignee"] {
            guard let id = Int64(text), directory.user(id: id)?.organizationID == principal.organizationID else {
                throw Problem.badRequest("there is no staff member \(text) in this organization")
            }
            filter.assigneeID = id
        }
        if let text = parameters["limit"] {
            guard let limit = Int(text), (1...200).contains(limit) else { throw Problem.badRequest("limit must be between 1 and 200, got `\(text)`") }
            filter.limit = limit
        }
        if let text = parameters["cursor"] {
            guard let cursor = Int64(text), cursor > 0 else { throw Problem.badRequest("the cursor is not one this server gave out, got `\(text)`") }
            filter.afterID = cursor
        }
        let records = try await store.complaints(filter)
        let names = try await store.reportNames(of: branches.map(\.id))
        let branchNames = Dictionary(uniqueKeysWithValues: branches.map { ($0.id, $0.name) })
        return Page(
            items: records.map { view($0, names: names, branch: branchNames[$0.complaint.branchID] ?? "", notes: nil) },
            nextCursor: records.count == filter.limit ? records.last.map { String($0.complaint.id) } : nil
        )
    }

    @Sendable func showComplaint(_ request: Request, context: TurnoRequestContext) async throws -> StaffView {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("complaint", as: Int64.self), let record = try await store.complaint(id) else {
            throw ComplaintRuleViolation.unknownComplaint(context.parameters.get("complaint", as: Int64.self) ?? 0)
        }
        return try await detailed(record, principal: principal)
    }

    @Sendable func changeComplaint(_ request: Request, context: TurnoRequestContext) async throws -> StaffView {
        let principal = try context.requirePrincipal()
        let body = try await request.decode(as: ChangeRequest.self, context: context)
        guard let id = context.parameters.get("complaint", as: Int64.self) else { throw ComplaintRuleViolation.unknownComplaint(0) }
        if body.assigneeId != nil, body.unassign == true { throw Problem.badRequest("give either assignee_id or unassign, not both") }
        let assignee: StaffID?? = body.unassign == true ? .some(nil) : body.assigneeId.map { .some($0) }
        let change = ComplaintChange(state: body.state, assigneeID: assignee, note: body.note, reply: body.reply)
        let record = try await commands.change(id, change, by: principal, address: context.clientAddress)
        return try await detailed(record, principal: principal)
    }

    /// A complaint with its timeline, if the caller works at its branch (else it does not exist for them).
    private func detailed(_ record: ComplaintRecord, principal: Principal) async throws -> StaffView {
        guard let branch = try await store.branch(record.complaint.branchID), branch.organizationID == principal.organizationID,
            principal.canAccess(branch: branch.id)
        else { throw ComplaintRuleViolation.unknownComplaint(record.complaint.id) }
        let names = try await store.reportNames(of: [branch.id])
        return view(record, names: names, branch: branch.name, notes: try await store.notes(of: record.complaint.id))
    }

    private func view(_ record: ComplaintRecord, names: ReportNames, branch: String, notes: [ComplaintNote]?) -> StaffView {
        let complaint = record.complaint
        return StaffView(
            id: complaint.id,
            branchId: complaint.branchID,
            branch: branch,
            ticketId: complaint.ticketID,
            ticketNumber: record.ticketNumber,
            service: names.services[record.serviceID]?.name,
            counter: record.queueID.flatMap { names.queues[$0]?.name },
            servedBy: record.servedBy.map(staff),
            text: complaint.text,
            state: complaint.state,
            assignee: complaint.assigneeID.map(staff),
            reply: complaint.reply,
            createdAt: Date(milliseconds: complaint.createdAtMs),
            updatedAt: Date(milliseconds: complaint.updatedAtMs),
            notes: notes?.map { note in
                NoteView(
                    at: Date(milliseconds: note.atMs),
                    by: note.userID.map(staff),
                    state: note.state,
                    assigneeId: note.assigneeID.flatMap { $0 },
                    unassigned: note.assigneeID.map { $0 == nil } ?? false,
                    note: note.note,
                    reply: note.reply
                )
            }
        )
    }

    private func staff(_ id: StaffID) -> StaffName {
        StaffName(id, directory: directory)
    }
}

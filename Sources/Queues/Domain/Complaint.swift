import Foundation
import TurnoCore

/// Identifies a complaint.
public typealias ComplaintID = Int64

/// Where a complaint stands: just made, seen by a manager, or dealt with.
public enum ComplaintState: String, Sendable, Codable, CaseIterable {
    case open, acknowledged, resolved
}

/// A problem a customer reported about a visit, and what the branch did about it.
public struct Complaint: Sendable, Equatable {
    public var id: ComplaintID
    public var branchID: BranchID
    public var ticketID: TicketID
    /// Nil once the retention policy erased it.
    public var text: String?
    public var state: ComplaintState
    public var assigneeID: StaffID?
    /// The last message to the customer, shown on their ticket page.
    public var reply: String?
    public var repliedAtMs: Int64?
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
}

/// A change a manager makes to a complaint: a new state, an assignee (or none), an internal note, a reply to the
/// customer. Any of them may be absent; `assigneeID` is `.some(nil)` to unassign.
public struct ComplaintChange: Sendable, Equatable {
    public var state: ComplaintState?
    public var assigneeID: StaffID??
    public var note: String?
    public var reply: String?

    public init(state: ComplaintState? = nil, assigneeID: StaffID?? = nil, note: String? = nil, reply: String? = nil) {
        (self.state, self.assigneeID, self.note, self.reply) = (state, assigneeID, note, reply)
    }
}

/// The rules of complaints: who may make one and when, and how they change.
public enum ComplaintRules {
    /// How long after the end of a visit its customer may report a problem.
    public static let windowMs: Int64 = 7 * 86_400_000
    public static let textLimit = 2_000

    /// The complaint text, trimmed, if `ticket` may get one at `nowMs`: it was served (or called and not there), at
    /// most seven days ago, and has none yet.
    public static func file(text: String, on ticket: Ticket, hasOne: Bool, nowMs: Int64) throws(ComplaintRuleViolation) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .emptyText }
        guard trimmed.count <= textLimit else { throw .tooLong(field: "text", limit: textLimit) }
        guard ticket.state == .served || ticket.state == .noShow, let finished = ticket.finishedAtMs else {
            throw .notFinished(ticket: ticket.number.description)
        }
        guard nowMs - finished <= windowMs else { throw .tooLate(ticket: ticket.number.description) }
        guard !hasOne else { throw .alreadyMade(ticket: ticket.number.description) }
        return trimmed
    }

    /// `complaint` after `change` at `nowMs`, with the change's note and reply trimmed (nil when blank). Changing the
    /// state takes a note or a reply, so every step says why.
    public static func apply(
        _ change: ComplaintChange,
        to complaint: Complaint,
        nowMs: Int64
    ) throws(ComplaintRuleViolation) -> (
        complaint: Complaint, change: ComplaintChange
    ) {
        func trimmed(_ text: String?) -> String? {
            text.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var said = change
        (said.note, said.reply) = (trimmed(change.note), trimmed(change.reply))
        for (field, value) in [("note", said.note), ("reply", said.reply)] {
            if let value, value.count > textLimit { throw .tooLong(field: field, limit: textLimit) }
        }
        let says = said.note != nil || said.reply != nil
        guard change.state != nil || change.assigneeID != nil || says else { throw .nothingToChange }
        if let state = change.state, state != complaint.state, !says { throw .stateNeedsNote(state) }
        var changed = complaint
        if let state = change.state { changed.state = state }
        if let assignee = change.assigneeID { changed.assigneeID = assignee }
        if let reply = said.reply {
            changed.reply = reply
            changed.repliedAtMs = nowMs
        }
        changed.updatedAtMs = nowMs
        return (changed, said)
    }
}

/// A complaint rule a request would break.
public enum ComplaintRuleViolation: RuleViolation, Equatable {
    case unknownComplaint(ComplaintID)
    case noComplaint(ticket: String)
    case emptyText
    case tooLong(field: String, limit: Int)
    case notFinished(ticket: String)
    case tooLate(ticket: String)
    case alreadyMade(ticket: String)
    case nothingToChange
    case stateNeedsNote(ComplaintState)
    case assigneeCannotHandle(StaffID)

    public var kind: RuleViolationKind {
        switch self {
        case .unknownComplaint, .noComplaint: .notFound
        case .notFinished, .tooLate, .alreadyMade: .conflict
        case .emptyText, .tooLong, .nothingToChange, .stateNeedsNote, .assigneeCannotHandle: .invalid
        }
    }

    public var detail: String {
        switch self {
        case .unknownComplaint(let id): "there is no complaint \(id)"
        case .noComplaint(let ticket): "no problem has been reported about ticket \(ticket)"
        case .emptyText: "say what went wrong: `text` is empty"
        case .tooLong(let field, let limit): "`\(field)` may be at most \(limit) characters"
        case .notFinished(let ticket): "a problem can be reported once ticket \(ticket) has been served"
        case .tooLate(let ticket): "problems can be reported up to seven days after the visit; ticket \(ticket) is older"
        case .alreadyMade(let ticket): "a problem has already been reported about ticket \(ticket); its reply will appear on the ticket page"
        case .nothingToChange: "give a state, an assignee_id, a note or a reply"
        case .stateNeedsNote(let state): "say why with a note or a reply when marking the complaint \(state.rawValue)"
        case .assigneeCannotHandle(let id): "staff member \(id) is not an admin, nor a manager of this branch, so cannot handle its complaints"
        }
    }
}

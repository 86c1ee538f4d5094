import TurnoCore

/// Complaints: a customer reports a problem with a visit; managers acknowledge, assign, reply and resolve. Each is one
/// transaction with its audit entry; a new complaint also counts in the reports.
struct ComplaintCommands: Sendable {
    let store: QueueStore
    /// To check that an assignee may handle the branch's complaints.
    let directory: StaffDirectory

    /// Reports a problem with `ticket`'s visit (its holder, with its link).
    func file(text: String, on ticket: Ticket, address: String) async throws -> Complaint {
        guard let branch = try await store.branch(ticket.branchID) else { throw QueueRuleViolation.unknownBranch(ticket.branchID) }
        return try await store.storage.write { transaction in
            let existing = try await store.complaint(ofTicket: ticket.id, sql: transaction.sql)
            let text = try ComplaintRules.file(text: text, on: ticket, hasOne: existing != nil, nowMs: transaction.timeMs)
            let complaint = try await store.insertComplaint(branchID: ticket.branchID, ticketID: ticket.id, text: text, in: transaction)
            let servedBy = try await store.servedBy(ticket.id, sql: transaction.sql)
            let counted = ReportContributions.feedback(on: ticket, userID: servedBy, rating: nil, complaint: true, timeZone: branch.timeZone)
            try await store.addToReports(counted, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: branch.organizationID,
                actor: "customer",
                action: "complaint.filed",
                target: "complaint:\(complaint.id)",
                detail: ["ticket": ticket.number.description, "branch": String(branch.id)],
                address: address
            )
            return complaint
        }
    }

    /// Changes a complaint of a branch `principal` works at.
    func change(_ id: ComplaintID, _ change: ComplaintChange, by principal: Principal, address: String) async throws -> ComplaintRecord {
        try await store.storage.write { transaction in
            guard let record = try await store.complaint(id, in: transaction),
                let branch = try await store.branch(record.complaint.branchID, sql: transaction.sql),
                branch.organizationID == principal.organizationID
            else { throw ComplaintRuleViolation.unknownComplaint(id) }
            guard principal.canAccess(branch: branch.id) else { throw ComplaintRuleViolation.unknownComplaint(id) }
            if case .some(.some(let assignee)) = change.assigneeID {
                guard let user = directory.user(id: assignee), user.active, user.organizationID == principal.organizationID,
                    user.role == .admin || (user.role == .manager && user.branchIDs.contains(branch.id))
                else { throw ComplaintRuleViolation.assigneeCannotHandle(assignee) }
            }
            let (changed, said) = try ComplaintRules.apply(change, to: record.complaint, nowMs: transaction.timeMs)
            try await store.update(changed, in: transaction)
            let note = ComplaintNote(
                atMs: transaction.timeMs,
                userID: principal.userID,
                state: said.state,
                assigneeID: said.assigneeID,
                note: said.note,
                reply: said.reply
            )
            try await store.addNote(note, to: id, in: transaction)
            var detail = ["state": changed.state.rawValue]
            if case .some(let assignee) = change.assigneeID { detail["assignee"] = assignee.map(String.init) ?? "none" }
            if note.reply != nil { detail["replied"] = "yes" }
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "complaint.changed",
                target: "complaint:\(id)",
                detail: detail,
                address: address
            )
            var updated = record
            updated.complaint = changed
            return updated
        }
    }
}

import TurnoCore

/// Opening hours and shifts. Each change is one transaction with the branch locked (so two managers planning at once
/// see each other's shifts and cannot double-book anybody) and its audit entry.
struct ScheduleCommands: Sendable {
    let store: QueueStore
    /// To check that a staff member works at the branch.
    let directory: StaffDirectory

    /// Sets a branch's opening hours (nil: none, it takes tickets whenever it is open) and whether its counters follow
    /// the shifts.
    func setHours(_ hours: OpeningHours?, countersFollowShifts: Bool?, branchID: BranchID, by principal: Principal, address: String) async throws -> Branch {
        let checked = try hours?.checked()
        return try await locked(branchID, by: principal) { branch, _, transaction in
            var changed = branch
            changed.openingHours = checked
            let countersFollowShifts = countersFollowShifts ?? branch.countersFollowShifts
            changed.countersFollowShifts = countersFollowShifts
            try await store.setHours(of: changed, in: transaction)
            if countersFollowShifts, !branch.countersFollowShifts {
                // Shifts already under way when this is turned on are left as they are: it acts from now on.
                try await store.setShiftProgress(of: branchID, to: transaction.timeMs, in: transaction)
            }
            let detail = [
                "hours": checked == nil ? "none" : "set", "special_days": String(checked?.specialDays.count ?? 0),
                "counters_follow_shifts": countersFollowShifts ? "yes" : "no",
            ]
            try await audit("branch.hours_changed", target: "branch:\(branchID)", detail: detail, principal: principal, address: address, in: transaction)
            return changed
        }
    }

    func addTemplate(_ template: ShiftTemplate, by principal: Principal, address: String) async throws -> ShiftTemplate {
        try await locked(template.branchID, by: principal) { branch, _, transaction in
            var template = template
            template.name = template.name.trimmingCharacters(in: .whitespacesAndNewlines)
            try Roster.check(template, hours: branch.openingHours)
            let created = try await store.insertTemplate(template, in: transaction)
            try await audit(
                "shift_template.created",
                target: "shift_template:\(created.id)",
                detail: ["name": created.name, "hours": created.hours.description],
                principal: principal,
                address: address,
                in: transaction
            )
            return created
        }
    }

    /// Removes a template no assignment still uses from today on.
    func removeTemplate(_ id: ShiftTemplateID, by principal: Principal, address: String) async throws {
        let (branchID, missing) = try await branch(of: .templates, id: id, missing: .unknownTemplate(id))
        try await locked(branchID, by: principal, missing: missing) { branch, roster, transaction in
            let today = LocalDate(ofMilliseconds: transaction.timeMs, timeZone: branch.timeZone)
            let using = roster.assignments.filter { $0.templateID == id && ($0.lastDate.map { $0 >= today } ?? true) }
            guard using.isEmpty else { throw ScheduleRuleViolation.templateInUse(id, assignments: using.count) }
            try await store.deactivateTemplate(id, in: transaction)
            try await audit("shift_template.removed", target: "shift_template:\(id)", detail: [:], principal: principal, address: address, in: transaction)
        }
    }

    func addAssignment(_ assignment: ShiftAssignment, by principal: Principal, address: String) async throws -> ShiftAssignment {
        try await locked(assignment.branchID, by: principal) { branch, roster, transaction in
            let state = try await store.state(of: branch.id, organizationID: branch.organizationID, sql: transaction.sql)
            guard let queue = state.queues[assignment.queueID] else { throw QueueRuleViolation.unknownQueue(assignment.queueID) }
            try checkWorker(assignment.userID, at: branch, counter: queue)
            try roster.check(assignment)
            let created = try await store.insertAssignment(assignment, in: transaction)
            var detail = ["user": String(created.userID), "queue": String(created.queueID), "first_date": created.firstDate.description]
            detail["last_date"] = created.lastDate?.description ?? "none"
            try await audit("shift.assigned", target: "shift_assignment:\(created.id)", detail: detail, principal: principal, address: address, in: transaction)
            return created
        }
    }

    /// Removes an assignment: one that has started ends yesterday (its worked shifts stay in the plan's history);
    /// one still to come goes.
    func removeAssignment(_ id: ShiftAssignmentID, by principal: Principal, address: String) async throws {
        let (branchID, missing) = try await branch(of: .assignments, id: id, missing: .unknownAssignment(id))
        try await locked(branchID, by: principal, missing: missing) { branch, roster, transaction in
            guard let assignment = roster.assignments.first(where: { $0.id == id }) else { throw ScheduleRuleViolation.unknownAssignment(id) }
            let today = LocalDate(ofMilliseconds: transaction.timeMs, timeZone: branch.timeZone)
            let ended = assignment.firstDate < today
            if ended {
                try await store.endAssignment(id, lastDate: min(today.adding(days: -1), assignment.lastDate ?? today), in: transaction)
            } else {
                try await store.deleteAssignment(id, in: transaction)
            }
            try await audit(
                "shift.unassigned",
                target: "shift_assignment:\(id)",
                detail: ["ended": ended ? "yes" : "no"],
                principal: principal,
                address: address,
                in: transaction
            )
        }
    }

    func addAbsence(_ absence: Absence, by principal: Principal, address: String) async throws -> Absence {
        try await locked(absence.branchID, by: principal) { branch, _, transaction in
            var absence = absence
            absence.reason = absence.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            try checkMember(absence.userID, of: branch)
            try Roster.check(absence)
            let created = try await store.insertAbsence(absence, in: transaction)
            let detail = ["user": String(created.userID), "first_date": created.firstDate.description, "last_date": created.lastDate.description]
            try await audit("absence.recorded", target: "absence:\(created.id)", detail: detail, principal: principal, address: address, in: transaction)
            return created
        }
    }

    func removeAbsence(_ id: AbsenceID, by principal: Principal, address: String) async throws {
        let (branchID, missing) = try await branch(of: .absences, id: id, missing: .unknownAbsence(id))
        try await locked(branchID, by: principal, missing: missing) { _, _, transaction in
            try await store.deleteAbsence(id, in: transaction)
            try await audit("absence.removed", target: "absence:\(id)", detail: [:], principal: principal, address: address, in: transaction)
        }
    }

    func addSwap(_ swap: ShiftSwap, by principal: Principal, address: String) async throws -> ShiftSwap {
        try await locked(swap.branchID, by: principal) { branch, roster, transaction in
            guard let assignment = roster.assignments.first(where: { $0.id == swap.assignmentID }) else {
                throw ScheduleRuleViolation.unknownAssignment(swap.assignmentID)
            }
            let state = try await store.state(of: branch.id, organizationID: branch.organizationID, sql: transaction.sql)
            guard let queue = state.queues[assignment.queueID] else { throw QueueRuleViolation.unknownQueue(assignment.queueID) }
            try checkWorker(swap.substituteID, at: branch, counter: queue)
            try roster.check(swap, hours: branch.openingHours, timeZone: branch.timeZone)
            let created = try await store.insertSwap(swap, in: transaction)
            let detail = ["assignment": String(swap.assignmentID), "date": swap.date.description, "substitute": String(swap.substituteID)]
            try await audit("shift.swapped", target: "shift_swap:\(created.id)", detail: detail, principal: principal, address: address, in: transaction)
            return created
        }
    }

    func removeSwap(_ id: ShiftSwapID, by principal: Principal, address: String) async throws {
        let (branchID, missing) = try await branch(of: .swaps, id: id, missing: .unknownSwap(id))
        try await locked(branchID, by: principal, missing: missing) { _, _, transaction in
            try await store.deleteSwap(id, in: transaction)
            try await audit("shift_swap.removed", target: "shift_swap:\(id)", detail: [:], principal: principal, address: address, in: transaction)
        }
    }

    // MARK: Rules on the staff

    /// An active staff member of the branch's organization who works there (admins work everywhere).
    private func checkMember(_ userID: StaffID, of branch: Branch) throws {
        guard let user = directory.user(id: userID), user.active, user.organizationID == branch.organizationID,
            user.role == .admin || user.branchIDs.contains(branch.id)
        else { throw ScheduleRuleViolation.notOfBranch(user: userID) }
    }

    /// A member of the branch who may work `counter`: an admin or manager, or an operator the counter allows.
    private func checkWorker(_ userID: StaffID, at branch: Branch, counter: Queue) throws {
        try checkMember(userID, of: branch)
        guard let user = directory.user(id: userID) else { throw ScheduleRuleViolation.notOfBranch(user: userID) }
        switch user.role {
        case .admin, .manager: return
        case .operator where counter.operatorIDs.isEmpty || counter.operatorIDs.contains(userID): return
        default: throw ScheduleRuleViolation.mayNotWorkCounter(user: userID, counter: counter.counter)
        }
    }

    // MARK: Plumbing

    /// The branch a row of `table` belongs to, or `missing`.
    private func branch(of table: ScheduleTable, id: Int64, missing: ScheduleRuleViolation) async throws -> (BranchID, ScheduleRuleViolation) {
        guard let branchID = try await store.branchID(of: table, id: id) else { throw missing }
        return (branchID, missing)
    }

    /// Runs `change` in one transaction with the branch locked, after checking that `principal` works at it (another
    /// organization's branch does not exist for them).
    private func locked<Result: Sendable>(
        _ branchID: BranchID,
        by principal: Principal,
        missing: ScheduleRuleViolation? = nil,
        _ change: (Branch, Roster, Transaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await store.storage.write { transaction in
                guard try await store.lockAndRaiseVersion(of: branchID, in: transaction) != nil,
                    let branch = try await store.branch(branchID, sql: transaction.sql)
                else { throw QueueRuleViolation.unknownBranch(branchID) }
                // Another organization's row does not exist for the caller, whatever its branch.
                if let missing, branch.organizationID != principal.organizationID { throw missing }
                try QueueAccess.check(principal, branch: branch)
                let roster = try await store.roster(of: branchID, sql: transaction.sql)
                return try await change(branch, roster, transaction)
            }
        } catch let violation as ScheduleRuleViolation {
            throw NamedScheduleViolation(violation) { directory.user(id: $0)?.username }
        }
    }

    private func audit(
        _ action: String,
        target: String,
        detail: [String: String],
        principal: Principal,
        address: String,
        in transaction: Transaction
    ) async throws {
        try await Audit.record(
            in: transaction,
            organizationID: principal.organizationID,
            actor: principal.auditName,
            action: action,
            target: target,
            detail: detail,
            address: address
        )
    }
}

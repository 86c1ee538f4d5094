/// A rule about staff accounts that a change would break.
enum StaffRuleViolation: RuleViolation, Equatable {
    case usernameTaken(String)
    case lastAdministrator

    var kind: RuleViolationKind { .conflict }

    var detail: String {
        switch self {
        case .usernameTaken(let username): "the username \(username) is taken"
        case .lastAdministrator: "this is the organization's last active administrator"
        }
    }
}

/// Changes to staff accounts. Each runs in one transaction with its `user.changed` event (which keeps every node's
/// `StaffDirectory` current) and its audit row, and is applied to this node's directory at once.
struct StaffCommands: Sendable {
    let identity: Identity

    /// What a change sets; nil leaves it as it is. A password arrives hashed.
    struct Change: Sendable {
        var role: Role?
        var branchIDs: Set<Int64>?
        var active: Bool?
        var passwordHash: String?
    }

    func create(
        username: String,
        passwordHash: String,
        role: Role,
        branchIDs: Set<Int64>,
        by principal: Principal,
        address: String
    ) async throws -> StaffUser {
        let user = try await identity.storage.write { transaction in
            if try await IdentityStore.user(named: username, in: transaction.sql) != nil { throw StaffRuleViolation.usernameTaken(username) }
            let user = try await IdentityStore.insertUser(
                organizationID: principal.organizationID,
                username: username,
                passwordHash: passwordHash,
                role: role,
                branchIDs: branchIDs,
                at: transaction.timeMs,
                in: transaction.sql
            )
            try await transaction.append(try UserChanged(user).event())
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "user.created",
                target: "user:\(user.id)",
                detail: ["username": username, "role": role.rawValue, "branches": IdentityStore.encodeIDs(branchIDs)],
                address: address
            )
            return user
        }
        identity.directory.apply(user)
        return user
    }

    func change(_ current: StaffUser, _ change: Change, by principal: Principal, address: String) async throws -> StaffUser {
        let updated = try await identity.storage.write { transaction in
            var user = current
            var changes: [String: String] = [:]
            if let role = change.role, role != user.role {
                user.role = role
                changes["role"] = "\(current.role.rawValue) → \(role.rawValue)"
            }
            if let branches = change.branchIDs, branches != user.branchIDs {
                user.branchIDs = branches
                changes["branches"] = IdentityStore.encodeIDs(branches)
            }
            if let active = change.active, active != user.active {
                user.active = active
                changes["active"] = String(active)
            }
            if let hash = change.passwordHash {
                (user.passwordHash, user.passwordChangedAtMs) = (hash, transaction.timeMs)
                changes["password"] = "changed"
            }
            // A new password, role or state ends every token and session issued before.
            if changes["password"] != nil || changes["role"] != nil || changes["active"] != nil { user.tokenEpoch += 1 }
            if user.role != .admin || !user.active { try await keepAnAdministrator(besides: current, in: transaction) }
            try await IdentityStore.update(user, at: transaction.timeMs, in: transaction.sql)
            if !changes.isEmpty {
                try await transaction.append(try UserChanged(user).event())
                try await Audit.record(
                    in: transaction,
                    organizationID: principal.organizationID,
                    actor: principal.auditName,
                    action: "user.changed",
                    target: "user:\(user.id)",
                    detail: changes,
                    address: address
                )
            }
            return user
        }
        identity.directory.apply(updated)
        return updated
    }

    /// Disables an account and ends its tokens and sessions; the row stays for the audit trail.
    func deactivate(_ current: StaffUser, by principal: Principal, address: String) async throws {
        let removed = try await identity.storage.write { transaction in
            var user = current
            user.active = false
            user.tokenEpoch += 1
            try await keepAnAdministrator(besides: current, in: transaction)
            try await IdentityStore.update(user, at: transaction.timeMs, in: transaction.sql)
            try await transaction.append(try UserChanged(user).event())
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "user.deactivated",
                target: "user:\(user.id)",
                detail: ["username": user.username],
                address: address
            )
            return user
        }
        identity.directory.apply(removed)
    }

    /// Refuses a change that would leave the organization without an active administrator.
    private func keepAnAdministrator(besides user: StaffUser, in transaction: Transaction) async throws {
        guard user.role == .admin && user.active else { return }
        let others = try await IdentityStore.activeAdministrators(organizationID: user.organizationID, excluding: user.id, in: transaction.sql)
        if others == 0 { throw StaffRuleViolation.lastAdministrator }
    }
}

import Foundation
import Hummingbird
import SQLKit

/// `/api/v1/users`: staff accounts. Admins manage everyone in their organization; managers manage
/// receptionists and operators of their own branches, and see the staff of those branches.
struct UsersController: Sendable {
    let identity: Identity

    struct CreateRequest: Decodable {
        var username: String
        var password: String
        var role: Role
        var branchIds: [Int64]?
    }

    struct UpdateRequest: Decodable {
        var password: String?
        var role: Role?
        var branchIds: [Int64]?
        var active: Bool?
    }

    struct ListResponse: Codable, ResponseEncodable {
        var items: [StaffUserResponse]
    }

    func add(to group: RouterGroup<TurnoRequestContext>) {
        group.get { _, context -> ListResponse in
            let principal = try context.requirePrincipal()
            let users = try await identity.storage.read { sql in
                try await sql.raw(
                    "SELECT \(unsafeRaw: IdentityStore.userColumns) FROM users WHERE organization_id = \(bind: principal.organizationID) ORDER BY id"
                )
                .all().map(IdentityStore.user(from:))
            }
            return ListResponse(items: users.filter { Self.canSee($0, principal) }.map(StaffUserResponse.init))
        }
        group.post { request, context -> Response in
            let principal = try context.requirePrincipal()
            let body = try await request.decode(as: CreateRequest.self, context: context)
            guard let username = Username.normalized(body.username) else {
                throw Problem.unprocessable("`username` must have 2 to 64 letters, digits, dots, dashes or underscores")
            }
            if let problem = PasswordRule.problem(with: body.password) { throw Problem.unprocessable("`password`: \(problem)") }
            let branches = try Self.validBranches(body.branchIds ?? [])
            try Self.checkManagerMayAssign(role: body.role, branches: branches, principal)
            let hash = try await identity.hashPassword(body.password)
            let user = try await identity.storage.write { transaction in
                if try await IdentityStore.user(named: username, in: transaction.sql) != nil {
                    throw Problem.conflict("the username \(username) is taken")
                }
                let user = try await IdentityStore.insertUser(
                    organizationID: principal.organizationID,
                    username: username,
                    passwordHash: hash,
                    role: body.role,
                    branchIDs: branches,
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
                    detail: ["username": username, "role": body.role.rawValue, "branches": IdentityStore.encodeIDs(branches)],
                    address: context.clientAddress
                )
                return user
            }
            identity.directory.apply(user)
            return try Response.json(StaffUserResponse(user), status: .created)
        }
        group.get("/:id") { _, context -> StaffUserResponse in
            StaffUserResponse(try await visibleUser(context))
        }
        group.patch("/:id") { request, context -> StaffUserResponse in
            let principal = try context.requirePrincipal()
            let body = try await request.decode(as: UpdateRequest.self, context: context)
            let current = try await visibleUser(context)
            if principal.role == .manager, current.role == .admin || current.role == .manager, current.id != principal.userID {
                throw Problem(.forbidden, detail: "managers change only receptionists and operators of their branches")
            }
            if let password = body.password, let problem = PasswordRule.problem(with: password) { throw Problem.unprocessable("`password`: \(problem)") }
            let branches = try body.branchIds.map { try Self.validBranches($0) }
            if body.role != nil || branches != nil {
                try Self.checkManagerMayAssign(role: body.role ?? current.role, branches: branches ?? current.branchIDs, principal)
            }
            let hash = try await body.password.asyncMap { try await identity.hashPassword($0) }
            let updated = try await identity.storage.write { transaction in
                var user = current
                var changes: [String: String] = [:]
                if let role = body.role, role != user.role {
                    user.role = role
                    changes["role"] = "\(current.role.rawValue) → \(role.rawValue)"
                }
                if let branches, branches != user.branchIDs {
                    user.branchIDs = branches
                    changes["branches"] = IdentityStore.encodeIDs(branches)
                }
                if let active = body.active, active != user.active {
                    user.active = active
                    changes["active"] = String(active)
                }
                if let hash {
                    (user.passwordHash, user.passwordChangedAtMs) = (hash, transaction.timeMs)
                    changes["password"] = "changed"
                }
                // A new password, role or state ends every token and session issued before.
                if body.password != nil || changes["role"] != nil || changes["active"] != nil { user.tokenEpoch += 1 }
                if user.role != .admin || !user.active {
                    try await Self.keepAnAdministrator(
                        excluding: user.id,
                        organizationID: principal.organizationID,
                        wasAdmin: current.role == .admin && current.active,
                        in: transaction
                    )
                }
                try await transaction.sql.raw(
                    """
                    UPDATE users SET role = \(bind: user.role.rawValue), branch_ids = \(bind: IdentityStore.encodeIDs(user.branchIDs)),
                        active = \(bind: user.active ? 1 : 0), token_epoch = \(bind: user.tokenEpoch),
                        password_hash = \(bind: user.passwordHash.isEmpty ? current.passwordHash : user.passwordHash),
                        password_changed_at_ms = \(bind: user.passwordChangedAtMs), updated_at_ms = \(bind: transaction.timeMs)
                    WHERE id = \(bind: user.id)
                    """
                ).run()
                if !changes.isEmpty {
                    try await transaction.append(try UserChanged(user).event())
                    try await Audit.record(
                        in: transaction,
                        organizationID: principal.organizationID,
                        actor: principal.auditName,
                        action: "user.changed",
                        target: "user:\(user.id)",
                        detail: changes,
                        address: context.clientAddress
                    )
                }
                return user
            }
            identity.directory.apply(updated)
            return StaffUserResponse(updated)
        }
        group.delete("/:id") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let current = try await visibleUser(context)
            if principal.role == .manager, current.role == .admin || current.role == .manager {
                throw Problem(.forbidden, detail: "managers remove only receptionists and operators of their branches")
            }
            let removed = try await identity.storage.write { transaction in
                var user = current
                user.active = false
                user.tokenEpoch += 1
                try await Self.keepAnAdministrator(
                    excluding: user.id,
                    organizationID: principal.organizationID,
                    wasAdmin: current.role == .admin && current.active,
                    in: transaction
                )
                try await transaction.sql.raw(
                    "UPDATE users SET active = 0, token_epoch = \(bind: user.tokenEpoch), updated_at_ms = \(bind: transaction.timeMs) WHERE id = \(bind: user.id)"
                ).run()
                try await transaction.append(try UserChanged(user).event())
                try await Audit.record(
                    in: transaction,
                    organizationID: principal.organizationID,
                    actor: principal.auditName,
                    action: "user.deactivated",
                    target: "user:\(user.id)",
                    detail: ["username": user.username],
                    address: context.clientAddress
                )
                return user
            }
            identity.directory.apply(removed)
            return Response(status: .noContent)
        }
    }

    /// The user named in the path, if it belongs to the caller's organization and the caller may see it; 404 otherwise.
    private func visibleUser(_ context: TurnoRequestContext) async throws -> StaffUser {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("id", as: Int64.self) else { throw Problem.notFound("no such user") }
        let user = try await identity.storage.read { try await IdentityStore.user(id: id, in: $0) }
        guard let user, user.organizationID == principal.organizationID, Self.canSee(user, principal) else {
            throw Problem.notFound("no user \(id) in your organization")
        }
        return user
    }

    static func canSee(_ user: StaffUser, _ principal: Principal) -> Bool {
        principal.role == .admin || user.id == principal.userID || (user.role != .admin && !user.branchIDs.isDisjoint(with: principal.branchIDs))
    }

    static func validBranches(_ ids: [Int64]) throws -> Set<Int64> {
        guard ids.allSatisfy({ $0 > 0 }) else { throw Problem.unprocessable("`branch_ids` must be positive branch ids") }
        return Set(ids)
    }

    static func checkManagerMayAssign(role: Role, branches: Set<Int64>, _ principal: Principal) throws {
        guard principal.role == .manager else { return }
        guard role == .reception || role == .operator else {
            throw Problem(.forbidden, detail: "managers may give only the reception and operator roles")
        }
        guard !branches.isEmpty, branches.isSubset(of: principal.branchIDs) else {
            throw Problem(.forbidden, detail: "managers may assign staff only to their own branches")
        }
    }

    /// Refuses a change that would leave the organization without an active administrator.
    static func keepAnAdministrator(excluding id: Int64, organizationID: Int64, wasAdmin: Bool, in transaction: Transaction) async throws {
        guard wasAdmin else { return }
        let others =
            try await transaction.sql.raw(
                """
                SELECT COUNT(*) AS n FROM users WHERE organization_id = \(bind: organizationID) AND role = 'admin' AND active = 1 AND id <> \(bind: id)
                """
            ).first()?.decode(column: "n", as: Int.self) ?? 0
        if others == 0 { throw Problem.conflict("this is the organization's last active administrator") }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}

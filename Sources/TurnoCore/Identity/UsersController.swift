import Foundation
import Hummingbird

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

    /// It keeps no state, so each request may make its own.
    private var commands: StaffCommands { StaffCommands(identity: identity) }

    func add(to group: RouterGroup<TurnoRequestContext>) {
        group.get(use: listUsers)
        group.post(use: createUser)
        group.get("/:user", use: showUser)
        group.patch("/:user", use: updateUser)
        group.delete("/:user", use: deactivateUser)
    }

    @Sendable func listUsers(_ request: Request, context: TurnoRequestContext) async throws -> ListResponse {
        let principal = try context.requirePrincipal()
        let users = try await identity.storage.read { try await IdentityStore.users(organizationID: principal.organizationID, in: $0) }
        return ListResponse(items: users.filter { Self.canSee($0, principal) }.map(StaffUserResponse.init))
    }

    @Sendable func createUser(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decode(as: CreateRequest.self, context: context)
        guard let username = Username.normalized(body.username) else {
            throw Problem.unprocessable("`username` must have 2 to 64 letters, digits, dots, dashes or underscores")
        }
        if let problem = PasswordRule.problem(with: body.password) { throw Problem.unprocessable("`password`: \(problem)") }
        let branches = try Self.validBranches(body.branchIds ?? [])
        try Self.checkManagerMayAssign(role: body.role, branches: branches, principal)
        let user = try await commands.create(
            username: username,
            passwordHash: try await identity.hashPassword(body.password),
            role: body.role,
            branchIDs: branches,
            by: principal,
            address: context.clientAddress
        )
        return try Response.json(StaffUserResponse(user), status: .created)
    }

    @Sendable func showUser(_ request: Request, context: TurnoRequestContext) async throws -> StaffUserResponse {
        StaffUserResponse(try await visibleUser(context))
    }

    @Sendable func updateUser(_ request: Request, context: TurnoRequestContext) async throws -> StaffUserResponse {
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
        let change = StaffCommands.Change(
            role: body.role,
            branchIDs: branches,
            active: body.active,
            passwordHash: try await body.password.asyncMap { try await identity.hashPassword($0) }
        )
        return StaffUserResponse(try await commands.change(current, change, by: principal, address: context.clientAddress))
    }

    @Sendable func deactivateUser(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let current = try await visibleUser(context)
        if principal.role == .manager, current.role == .admin || current.role == .manager {
            throw Problem(.forbidden, detail: "managers remove only receptionists and operators of their branches")
        }
        try await commands.deactivate(current, by: principal, address: context.clientAddress)
        return Response(status: .noContent)
    }

    /// The user named in the path, if it belongs to the caller's organization and the caller may see it; 404 otherwise.
    private func visibleUser(_ context: TurnoRequestContext) async throws -> StaffUser {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("user", as: Int64.self) else { throw Problem.notFound("no such user") }
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
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}

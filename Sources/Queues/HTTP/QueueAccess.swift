import TurnoCore

/// Branch scoping on top of the route groups: other organizations' branches do not exist (404); within the
/// organization, managers, receptionists and operators reach only their branches, operators only their queues.
enum QueueAccess {
    static func check(_ principal: Principal, branch: Branch) throws {
        guard principal.organizationID == branch.organizationID else { throw Problem.notFound("there is no branch \(branch.id)") }
        guard principal.canAccess(branch: branch.id) else { throw Problem(.forbidden, detail: "you do not work at branch \(branch.id)") }
    }

    /// Operators act on the queues assigned to them (or on any queue of their branch that has nobody assigned).
    static func check(_ principal: Principal, queue: Queue, branch: Branch) throws {
        try check(principal, branch: branch)
        if principal.role == .operator, let user = principal.userID, !queue.operatorIDs.isEmpty, !queue.operatorIDs.contains(user) {
            throw Problem(.forbidden, detail: "counter \(queue.counter) is assigned to other operators")
        }
    }
}

extension QueueStore {
    /// The branch the path's `:branch` names, if the caller works at it (see `QueueAccess.check`).
    func branch(workedAtBy context: TurnoRequestContext) async throws -> Branch {
        guard let id = context.parameters.get("branch", as: Int64.self), let branch = try await branch(id) else {
            throw Problem.notFound("there is no branch \(context.parameters.get("branch") ?? "")")
        }
        try QueueAccess.check(context.requirePrincipal(), branch: branch)
        return branch
    }
}

/// A staff member as answers name them: the id, and the username while the account exists.
struct StaffName: Codable, Sendable {
    var id: StaffID
    var username: String?

    init(_ id: StaffID, directory: StaffDirectory) {
        self.id = id
        self.username = directory.user(id: id)?.username
    }
}

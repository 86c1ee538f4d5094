/// What a staff user may do in their organization.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Everything in the organization, including users, roles, API keys and settings.
    case admin
    /// The branches assigned to them: queues, services, staff of those branches, reports.
    case manager
    /// Issue tickets for walk-ins, transfer tickets, see every queue of their branch.
    case reception
    /// Act on the queues they are assigned to.
    case `operator`

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank > rhs.rank }
}

/// Who is making a request, once authenticated.
public struct Principal: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A staff user, signed in with a password (token or page session).
        case user(id: Int64, username: String, role: Role)
        /// A machine, with an API key.
        case apiKey(id: Int64, name: String, scopes: Set<Scope>)
    }

    public var kind: Kind
    public var organizationID: Int64
    /// Branches a manager, receptionist or operator works in (admins see every branch).
    public var branchIDs: Set<Int64>
    /// True when the request was authenticated by a page's session cookie (and so needs a CSRF token to change anything).
    public var viaSessionCookie: Bool

    // Not inlined: Swift 6.3.1's optimizer (CopyPropagation) crashes on handlers that read these after an `await`
    // once they are inlined, which breaks release builds.
    public var role: Role? {
        @inline(never) get { if case .user(_, _, let role) = kind { role } else { nil } }
    }

    public var userID: Int64? {
        @inline(never) get { if case .user(let id, _, _) = kind { id } else { nil } }
    }

    public var scopes: Set<Scope> {
        @inline(never) get { if case .apiKey(_, _, let scopes) = kind { scopes } else { [] } }
    }

    /// How the audit trail names this principal: `user:3 (alice)` or `api_key:7 (kiosk 1)`.
    public var auditName: String {
        switch kind {
        case .user(let id, let username, _): "user:\(id) (\(username))"
        case .apiKey(let id, let name, _): "api_key:\(id) (\(name))"
        }
    }

    /// Whether this principal may act on a branch: admins on all of their organization's, others on their own.
    public func canAccess(branch: Int64) -> Bool {
        role == .admin || branchIDs.contains(branch)
    }
}

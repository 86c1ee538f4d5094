/// Groups of routes that share one access rule. Every staff-facing route belongs to exactly one group,
/// and `AccessPolicy` is the single place that says who may use each group.
public enum RouteGroup: String, Sendable, CaseIterable {
    /// `GET /api/v1/me`, `POST /api/v1/auth/logout`: any signed-in staff user.
    case account
    /// `/api/v1/users`: staff accounts and their roles and branches.
    case users
    /// `/api/v1/api-keys`: keys for machines.
    case apiKeys = "api-keys"
    /// `/api/v1/audit`: the audit trail and its CSV export.
    case audit
    /// Branches, services and queues: creating and changing the set-up (managers: their branches only).
    case branchSetup = "branch-setup"
    /// Opening, pausing and closing queues, calling, recalling, serving, no-shows (operators: their queues only).
    case queueOperation = "queue-operation"
    /// Seeing a branch's queues and tickets, transferring tickets, issuing them for walk-ins.
    case ticketDesk = "ticket-desk"
    /// A branch's dashboard: load per counter, waits and staffing per service.
    case dashboard
    /// Recording, changing and deleting exercise sessions.
    case sessionsWrite = "sessions-write"
    /// Listing and exporting exercise sessions, reading statistics.
    case sessionsRead = "sessions-read"
    /// Seeing the fleet: its map, drones, deliveries and statistics.
    case fleetRead = "fleet-read"
    /// Posting and cancelling deliveries.
    case fleetDeliveries = "fleet-deliveries"
    /// Registering, activating and retiring drones, and their telemetry.
    case fleetDrones = "fleet-drones"
}

/// Who may use each route group: deny by default.
public enum AccessPolicy {
    /// The roles allowed in each group. Branch scoping (a manager sees only their branches) is enforced
    /// by the routes themselves, on top of this.
    public static func roles(for group: RouteGroup) -> Set<Role> {
        switch group {
        case .account: Set(Role.allCases)
        case .users: [.admin, .manager]
        case .apiKeys: [.admin]
        case .audit: [.admin]
        case .branchSetup: [.admin, .manager]
        case .queueOperation: [.admin, .manager, .operator]
        case .ticketDesk: Set(Role.allCases)
        case .dashboard: [.admin, .manager]
        case .sessionsWrite: [.admin, .manager]
        case .sessionsRead: Set(Role.allCases)
        case .fleetRead, .fleetDeliveries: Set(Role.allCases)
        case .fleetDrones: [.admin, .manager]
        }
    }

    /// The API-key scopes accepted in each group (none of the staff-management groups take keys).
    public static func scopes(for group: RouteGroup) -> Set<Scope> {
        switch group {
        case .account, .users, .apiKeys, .audit, .branchSetup, .queueOperation, .ticketDesk, .dashboard: []
        case .sessionsWrite: [.sessionsWrite]
        case .sessionsRead: [.sessionsRead, .sessionsWrite]
        case .fleetRead, .fleetDeliveries, .fleetDrones: [.fleetWrite]
        }
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// No credentials: 401.
        case unauthenticated
        /// Credentials that do not cover this group: 403.
        case forbidden
    }

    public static func decide(_ principal: Principal?, for group: RouteGroup) -> Decision {
        guard let principal else { return .unauthenticated }
        if let role = principal.role {
            return roles(for: group).contains(role) ? .allowed : .forbidden
        }
        return principal.scopes.isDisjoint(with: scopes(for: group)) ? .forbidden : .allowed
    }

    /// The access matrix as a Markdown table (docs/access.md is this text; a test keeps them equal).
    public static func markdown() -> String {
        var lines = [
            "# Access matrix",
            "",
            "Generated from `AccessPolicy` in `Sources/TurnoCore/Identity/AccessPolicy.swift` (`turno access-matrix`);",
            "a test fails when this file and the code disagree. Without credentials every group answers 401;",
            "with credentials that do not cover it, 403. Managers, receptionists and operators are further",
            "limited to their own branches (and operators to their queues) by the routes themselves.",
            "",
            "| route group | " + Role.allCases.map(\.rawValue).joined(separator: " | ") + " | API key scopes | no credentials |",
            "|---|" + Role.allCases.map { _ in "---|" }.joined() + "---|---|",
        ]
        for group in RouteGroup.allCases {
            let allowed = roles(for: group)
            let cells = Role.allCases.map { allowed.contains($0) ? "yes" : "403" }
            let scopes = scopes(for: group).map(\.rawValue).sorted()
            lines.append("| `\(group.rawValue)` | " + cells.joined(separator: " | ") + " | \(scopes.isEmpty ? "403" : scopes.joined(separator: ", ")) | 401 |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

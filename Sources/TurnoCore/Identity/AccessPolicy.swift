/// A group of routes that share one access rule: the roles that may use it and the API-key scopes it accepts.
/// Every staff-facing route belongs to exactly one group. The platform declares its own groups (``platform``); each
/// module declares its groups as static members in an extension and lists them in `TurnoModule.routeGroups`.
public struct RouteGroup: Sendable, Hashable {
    /// The name in the access matrix and in 403 answers: `branch-setup`, `sessions-read`.
    public let name: String
    /// What the group's routes are for, one line.
    public let summary: String
    public let roles: Set<Role>
    public let scopes: Set<Scope>

    public init(_ name: String, summary: String, roles: Set<Role>, scopes: Set<Scope> = []) {
        self.name = name
        self.summary = summary
        self.roles = roles
        self.scopes = scopes
    }

    /// `GET /api/v1/me`, `POST /api/v1/auth/logout`: any signed-in staff user.
    public static let account = RouteGroup("account", summary: "your own account and sign-out", roles: Set(Role.allCases))
    /// `/api/v1/users`: staff accounts and their roles and branches.
    public static let users = RouteGroup("users", summary: "staff accounts, their roles and branches", roles: [.admin, .manager])
    /// `/api/v1/api-keys`: keys for machines.
    public static let apiKeys = RouteGroup("api-keys", summary: "API keys for machines", roles: [.admin])
    /// `/api/v1/audit`: the audit trail and its CSV export.
    public static let audit = RouteGroup("audit", summary: "the audit trail and its export", roles: [.admin])

    /// `/api/v1/webhooks`: the organization's webhook endpoints and their logs.
    public static let webhooks = RouteGroup("webhooks", summary: "webhook endpoints, their secrets and logs", roles: [.admin])

    /// The platform's own groups, before the modules' ones.
    public static let platform: [RouteGroup] = [.account, .users, .apiKeys, .audit, .webhooks]
}

/// What an API key may do. Keys are for machines: kiosks, the Telegram bot, apps writing sessions. Modules declare
/// the scopes they accept (`TurnoModule.scopes`) as static members in an extension.
public struct Scope: RawRepresentable, Sendable, Hashable, Codable {
    /// As keys are created and shown: `tickets:issue`.
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }
}

/// Who may use a route group: deny by default.
public enum AccessPolicy {
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
            return group.roles.contains(role) ? .allowed : .forbidden
        }
        return principal.scopes.isDisjoint(with: group.scopes) ? .forbidden : .allowed
    }

    /// The access matrix of `groups` as a Markdown table (docs/access.md is this text for every group of the
    /// server; a test keeps them equal).
    public static func markdown(_ groups: [RouteGroup]) -> String {
        var lines = [
            "# Access matrix",
            "",
            "Generated from the route groups the platform and each module declare (`RouteGroup`, `turno access-matrix`);",
            "a test fails when this file and the code disagree. Without credentials every group answers 401;",
            "with credentials that do not cover it, 403. Managers, receptionists and operators are further",
            "limited to their own branches (and operators to their queues) by the routes themselves.",
            "",
            "| route group | " + Role.allCases.map(\.rawValue).joined(separator: " | ") + " | API key scopes | no credentials |",
            "|---|" + Role.allCases.map { _ in "---|" }.joined() + "---|---|",
        ]
        for group in groups {
            let cells = Role.allCases.map { group.roles.contains($0) ? "yes" : "403" }
            let scopes = group.scopes.map(\.rawValue).sorted()
            lines.append("| `\(group.name)` | " + cells.joined(separator: " | ") + " | \(scopes.isEmpty ? "403" : scopes.joined(separator: ", ")) | 401 |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

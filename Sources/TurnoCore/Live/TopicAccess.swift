/// Who may follow the live topics that start with `prefix` (`fleet:`, `queue:`). The platform declares its own
/// (``TopicAccess/platform``); each module declares its restricted topics in `TurnoModule.topics`.
public struct TopicRule: Sendable {
    public let prefix: String
    let allows: @Sendable (_ topic: String, _ principal: Principal?) -> Bool

    public init(prefix: String, allows: @escaping @Sendable (_ topic: String, _ principal: Principal?) -> Bool) {
        self.prefix = prefix
        self.allows = allows
    }

    /// `prefix` + an organization id (`fleet:3`), or that and more (`queue:3:17`, one of its counters): that
    /// organization's staff with one of `roles` only. Ids are sequential, so the organization is what keeps
    /// one tenant's staff out of another's topics.
    public static func organization(_ prefix: String, roles: Set<Role> = Set(Role.allCases)) -> TopicRule {
        TopicRule(prefix: prefix) { topic, principal in
            guard let principal, let role = principal.role, roles.contains(role) else { return false }
            let own = "\(prefix)\(principal.organizationID)"
            return topic == own || topic.hasPrefix(own + ":")
        }
    }
}

/// Who may follow which live topics. Topics no rule names are open: those a public screen or a customer follows
/// (`branch:<public id>`, `ticket:<token>`, `delivery:<id>`), whose id is public or is itself the secret.
public struct TopicAccess: Sendable {
    let rules: [TopicRule]

    /// Staff account changes: only the organization's administrators.
    public static let platform = [TopicRule.organization("organization:", roles: [.admin])]

    public init(rules: [TopicRule]) {
        self.rules = rules
    }

    public func allows(_ topic: String, _ principal: Principal?) -> Bool {
        rules.first { topic.hasPrefix($0.prefix) }.map { $0.allows(topic, principal) } ?? true
    }
}

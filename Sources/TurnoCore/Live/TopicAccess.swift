/// Who may follow the live topics that start with `prefix` (`fleet:`, `queue:`). The platform declares its own
/// (``TopicAccess/platform``); each module declares its restricted topics in `TurnoModule.topics`.
public struct TopicRule: Sendable {
    public let prefix: String
    let allows: @Sendable (_ topic: String, _ principal: Principal?) -> Bool

    public init(prefix: String, allows: @escaping @Sendable (_ topic: String, _ principal: Principal?) -> Bool) {
        self.prefix = prefix
        self.allows = allows
    }

    /// Any signed-in staff user of any organization (the topic's id cannot be guessed from outside, and the routes
    /// scope what it carries).
    public static func staff(_ prefix: String) -> TopicRule {
        TopicRule(prefix: prefix) { _, principal in principal?.role != nil }
    }

    /// `prefix` + an organization id: that organization's staff with one of `roles` only.
    public static func organization(_ prefix: String, roles: Set<Role> = Set(Role.allCases)) -> TopicRule {
        TopicRule(prefix: prefix) { topic, principal in
            guard let principal, let role = principal.role else { return false }
            return roles.contains(role) && topic == "\(prefix)\(principal.organizationID)"
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

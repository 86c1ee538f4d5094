import TurnoCore

extension RouteGroup {
    /// Branches, services and queues: creating and changing the set-up (managers: their branches only).
    public static let branchSetup = RouteGroup("branch-setup", summary: "branches, services and counters", roles: [.admin, .manager])
    /// Opening, pausing and closing queues, calling, recalling, serving, no-shows (operators: their queues only).
    public static let queueOperation = RouteGroup("queue-operation", summary: "working a counter", roles: [.admin, .manager, .operator])
    /// Seeing a branch's queues and tickets, transferring tickets, issuing them for walk-ins.
    public static let ticketDesk = RouteGroup("ticket-desk", summary: "lines, transfers, walk-in tickets", roles: Set(Role.allCases))
    /// A branch's dashboard: load per counter, waits and staffing per service.
    public static let dashboard = RouteGroup("dashboard", summary: "a branch's live dashboard", roles: [.admin, .manager])
    /// How long customers' details (ticket links, comments) are kept.
    public static let retention = RouteGroup("retention", summary: "how long customers' details are kept", roles: [.admin])
}

extension Scope {
    /// Take tickets without the anonymous rate limit (a kiosk, a bot).
    public static let ticketsIssue = Scope(rawValue: "tickets:issue")
    /// Give tickets any customer class, not only those the branch lets customers choose (a reception app, say).
    public static let ticketsClasses = Scope(rawValue: "tickets:classes")
}

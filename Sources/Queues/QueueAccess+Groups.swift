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
    /// Reports over past days, and staff performance (managers: their branches).
    public static let reports = RouteGroup("reports", summary: "reports and staff performance", roles: [.admin, .manager])
    /// Complaints about the branch's visits: the inbox, replies, assignment.
    public static let complaints = RouteGroup("complaints", summary: "complaints from customers", roles: [.admin, .manager])
    /// One's own figures: what one served, how fast, how rated.
    public static let ownFigures = RouteGroup("own-figures", summary: "one's own figures", roles: Set(Role.allCases))
    /// Opening hours, shifts, absences and swaps, and the forecast and staffing they are planned against.
    public static let schedule = RouteGroup("schedule", summary: "opening hours, shifts, forecast and staffing", roles: [.admin, .manager])
    /// One's own shifts.
    public static let ownShifts = RouteGroup("own-shifts", summary: "one's own shifts", roles: Set(Role.allCases))
    /// How long customers' details (ticket links, comments) are kept.
    public static let retention = RouteGroup("retention", summary: "how long customers' details are kept", roles: [.admin])
}

extension Scope {
    /// Take tickets without the anonymous rate limit (a kiosk, a bot).
    public static let ticketsIssue = Scope(rawValue: "tickets:issue")
    /// Give tickets any customer class, not only those the branch lets customers choose (a reception app, say).
    public static let ticketsClasses = Scope(rawValue: "tickets:classes")
}

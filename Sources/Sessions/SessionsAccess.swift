import TurnoCore

extension RouteGroup {
    /// Recording, changing and deleting exercise sessions.
    public static let sessionsWrite = RouteGroup("sessions-write", summary: "recording sessions", roles: [.admin, .manager], scopes: [.sessionsWrite])
    /// Listing and exporting exercise sessions, reading statistics.
    public static let sessionsRead = RouteGroup(
        "sessions-read",
        summary: "sessions, athletes, statistics",
        roles: Set(Role.allCases),
        scopes: [.sessionsRead, .sessionsWrite]
    )
}

extension Scope {
    /// Record sessions (and read them).
    public static let sessionsWrite = Scope(rawValue: "sessions:write")
    /// Read sessions and statistics.
    public static let sessionsRead = Scope(rawValue: "sessions:read")
}

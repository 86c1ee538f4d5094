import Hummingbird
import TurnoCore

/// Queues: tickets, least-loaded routing, counters, displays.
///
/// The module is wired into the server; its domain, store, live and HTTP parts arrive with its issue.
public struct QueuesModule: TurnoModule {
    public let name = "queues"
    public let migrations: [Migration] = []
    public let pages: [PageLink] = []

    public init() {}

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) {}
}

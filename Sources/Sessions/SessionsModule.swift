import Hummingbird
import TurnoCore

/// Sessions: exercise sessions and per-user statistics.
///
/// The module is wired into the server; its domain, store, live and HTTP parts arrive with its issue.
public struct SessionsModule: TurnoModule {
    public let name = "sessions"
    public let migrations: [Migration] = []
    public let pages: [PageLink] = []

    public init() {}

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {}
}

import Hummingbird
import TurnoCore

/// Fleet: drone deliveries, dispatch and the live map.
///
/// The module is wired into the server; its domain, store, live and HTTP parts arrive with its issue.
public struct FleetModule: TurnoModule {
    public let name = "fleet"
    public let migrations: [Migration] = []
    public let pages: [PageLink] = []

    public init() {}

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {}
}

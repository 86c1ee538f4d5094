import Configuration
import Hummingbird

/// One of Turno's modules (queues, fleet, sessions): its tables, its routes and the pages it offers.
public protocol TurnoModule: Sendable {
    /// A short lowercase name; its migrations use it as their `module` (their key in `schema_migrations`).
    var name: String { get }
    /// The module's schema, in version order.
    var migrations: [Migration] { get }
    /// Pages worth printing at start-up, such as the kiosk or the console.
    var pages: [PageLink] { get }
    /// The module's pages in the navigation shared by every staff page.
    var staffPages: [StaffPage] { get }
    /// The module's route groups, each with who may use it (the access matrix lists them in this order).
    var routeGroups: [RouteGroup] { get }
    /// The API-key scopes the module accepts (in its route groups, or checked by its routes): keys may be created
    /// with these.
    var scopes: [Scope] { get }
    /// Who may follow the module's restricted live topics (the others are open).
    var topics: [TopicRule] { get }
    /// The event families organizations may follow through webhooks (`ticket` for `ticket.*`); the module's other
    /// events stay inside.
    var publishedEventFamilies: [String] { get }
    /// Reads and checks the module's own settings (`turno.*` keys: flags and `TURNO_*` variables) before anything is
    /// opened, so that a bad value stops the start with its message.
    func checkSettings(_ config: ConfigReader) throws(SettingsError)
    /// Adds the module's routes, wired to the platform's storage and live hub.
    func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws
    /// The pages to print at start-up with the real ids the module knows (each branch's kiosk, say); `pages` when
    /// it knows none.
    func startupLinks(platform: Platform) async -> [PageLink]
}

extension TurnoModule {
    public func startupLinks(platform: Platform) async -> [PageLink] { pages }
    public var staffPages: [StaffPage] { [] }
    public var routeGroups: [RouteGroup] { [] }
    public var scopes: [Scope] { [] }
    public var topics: [TopicRule] { [] }
    public var publishedEventFamilies: [String] { [] }
    public func checkSettings(_ config: ConfigReader) throws(SettingsError) {}
}

/// A page a module serves, printed with its URL when the server starts.
public struct PageLink: Sendable, Equatable {
    public var title: String
    public var path: String

    public init(title: String, path: String) {
        self.title = title
        self.path = path
    }
}

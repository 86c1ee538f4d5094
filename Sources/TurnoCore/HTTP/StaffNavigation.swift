/// A page for staff that a module offers in the navigation every staff page shares.
public struct StaffPage: Sendable, Equatable {
    public var path: String
    /// The link's words by language (`en`, `it`); English when a language has none.
    public var titles: [String: String]
    /// Who sees the link; the page itself checks again.
    public var roles: Set<Role>

    public init(path: String, titles: [String: String], roles: Set<Role> = Set(Role.allCases)) {
        self.path = path
        self.titles = titles
        self.roles = roles
    }
}

/// The bar at the top of every staff page (and of the home page once signed in): home, every module's staff pages
/// the role may open, and the API documentation, with the current page marked for assistive technology.
public struct StaffNavigation: Sendable {
    let pages: [StaffPage]

    /// The platform's own pages around the modules' ones.
    static let home = StaffPage(path: "/", titles: ["en": "Home", "it": "Home"])
    static let documentation = StaffPage(path: "/docs", titles: ["en": "API", "it": "API"])

    public init(modulePages: [StaffPage]) {
        pages = [Self.home] + modulePages + [Self.documentation]
    }

    /// The pages `role` sees, in order.
    public func pages(for role: Role) -> [StaffPage] {
        pages.filter { $0.roles.contains(role) }
    }

    /// The navigation as HTML; `current` is the path of the page it sits on (a section of it counts too).
    public func html(role: Role, language: String, current: String) -> String {
        let label = language == "it" ? "Pagine di Turno" : "Turno pages"
        let links = pages(for: role).map { page in
            let isCurrent = page.path == "/" ? current == "/" : current == page.path || current.hasPrefix(page.path + "/")
            let title = SitePage.escape(page.titles[language] ?? page.titles["en"] ?? page.path)
            return #"<li><a href="\#(page.path)"\#(isCurrent ? #" aria-current="page""# : "")>\#(title)</a></li>"#
        }
        return #"<nav class="staff-nav" aria-label="\#(label)"><a class="staff-nav-brand" href="/">Turno</a><ul>\#(links.joined())</ul></nav>"#
    }
}

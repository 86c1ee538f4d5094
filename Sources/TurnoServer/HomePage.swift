import Hummingbird
import Queues
import TurnoCore

/// `/`: what Turno is and a way in. Signed in (a page session), the staff bar and the organization's branches the
/// user may see, each with its kiosk, display and console, and QR codes of the kiosk and display links to open them
/// on the device that will show them; signed out, the sign-in button.
struct HomePage: Sendable {
    let store: QueueStore
    let navigation: StaffNavigation

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/", use: home)
    }

    @Sendable func home(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let language = SitePage.language(acceptLanguage: request.headers[.acceptLanguage])
        let t = { SitePage.text($0, language) }
        var main = """
            <section><h1>Turno</h1><p class="lead">\(t("tagline"))</p><p>\(t("about"))</p></section>
            """
        guard let principal = context.pageSession, let role = principal.role else {
            main += #"<p><a class="button primary large" href="/login">\#(t("sign_in"))</a></p>"#
            return SitePage.html(title: t("home"), language: language, main: main)
        }
        let name = if case .user(_, let username, _) = principal.kind { username } else { principal.auditName }
        let branches = try await store.branches(organizationID: principal.organizationID).filter { principal.canAccess(branch: $0.id) }
        let origin = request.publicOrigin
        let rows = branches.map { Self.card(of: $0, origin: origin, language: language) }.joined(separator: "\n")
        main += """
            <p>\(SitePage.escape(t("signed_in_as").replacingOccurrences(of: "{name}", with: name)))</p>
            <h2>\(t("branches"))</h2>
            \(branches.isEmpty ? "<p>\(t("no_branches"))</p>" : #"<ul class="links branches">\#(rows)</ul>"#)
            """
        return SitePage.html(
            title: t("home"),
            language: language,
            main: main,
            navigation: navigation.html(role: role, language: language, current: "/")
        )
    }

    /// A branch's links to its pages, with QR codes of the kiosk and display links.
    static func card(of branch: Branch, origin: String, language: String) -> String {
        let t = { SitePage.text($0, language) }
        let pages = [("kiosk", "/b/\(branch.publicID)/kiosk"), ("display", "/b/\(branch.publicID)/display")]
        let codes = pages.map { page, path -> String in
            let label = SitePage.escape(t("qr_of").replacingOccurrences(of: "{page}", with: t(page)))
            let svg = (try? QRCode(encoding: origin + path).svg(moduleSize: 3)) ?? ""
            return #"<figure class="qr" role="img" aria-label="\#(label)">\#(svg)<figcaption>\#(t(page))</figcaption></figure>"#
        }
        return """
            <li class="card branch-card"><h3>\(SitePage.escape(branch.name))</h3><p class="branch-links">
            <a class="button" href="/b/\(branch.publicID)/kiosk">\(t("kiosk"))</a>
            <a class="button" href="/b/\(branch.publicID)/display">\(t("display"))</a>
            <a class="button" href="/console">\(t("console"))</a></p>
            <div class="qr-codes">\(codes.joined())</div><p class="muted small">\(t("qr_help"))</p></li>
            """
    }
}

import Hummingbird
import Queues
import TurnoCore

/// `/`: what Turno is and a way in. Signed in (a page session), the organization's branches the user may see, each
/// with its kiosk, display and console, and the staff pages; signed out, the sign-in button.
struct HomePage: Sendable {
    let store: QueueStore

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/") { request, context -> Response in
            let language = SitePage.language(acceptLanguage: request.headers[.acceptLanguage])
            let t = { SitePage.text($0, language) }
            var main = """
                <section><h1>Turno</h1><p class="lead">\(t("tagline"))</p><p>\(t("about"))</p></section>
                """
            guard let principal = context.principal, principal.viaSessionCookie, let role = principal.role else {
                main += #"<p><a class="button primary large" href="/login">\#(t("sign_in"))</a></p>"#
                return SitePage.html(title: t("home"), language: language, main: main)
            }
            let name = if case .user(_, let username, _) = principal.kind { username } else { principal.auditName }
            let branches = try await store.branches(organizationID: principal.organizationID).filter { principal.canAccess(branch: $0.id) }
            let rows = branches.map { branch in
                """
                <li class="card"><h3>\(SitePage.escape(branch.name))</h3><p class="branch-links">
                <a class="button" href="/b/\(branch.publicID)/kiosk">\(t("kiosk"))</a>
                <a class="button" href="/b/\(branch.publicID)/display">\(t("display"))</a>
                <a class="button" href="/console">\(t("console"))</a></p></li>
                """
            }.joined(separator: "\n")
            var pages = [("/console", "console"), ("/fleet", "fleet"), ("/docs", "docs")]
            if role == .admin || role == .manager { pages.insert(("/admin", "admin"), at: 1) }
            main += """
                <p>\(SitePage.escape(t("signed_in_as").replacingOccurrences(of: "{name}", with: name)))</p>
                <h2>\(t("branches"))</h2>
                \(branches.isEmpty ? "<p>\(t("no_branches"))</p>" : #"<ul class="links">\#(rows)</ul>"#)
                <h2>\(t("pages"))</h2>
                <ul class="links">\(pages.map { #"<li><a class="button" href="\#($0.0)">\#(t($0.1))</a></li>"# }.joined())</ul>
                """
            return SitePage.html(title: t("home"), language: language, main: main)
        }
    }
}

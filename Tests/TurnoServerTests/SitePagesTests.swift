import Foundation
import Testing

/// The first pages a new admin meets: the home page, the sign-in form and "not found", in the browser's language.
@Suite("Site pages")
struct SitePagesTests {
    @Test("the home page says what Turno is; signed in, it links each branch's kiosk, display and console")
    func home() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            _ = admin
            let anonymous = try await server.request(.GET, "/", headers: [("Accept-Language", "it-IT,it;q=0.9")])
            #expect(anonymous.status == 200 && anonymous.body.contains(#"<html lang="it">"#) && anonymous.body.contains(#"href="/login">Accedi"#))
            #expect(!anonymous.body.contains("/metrics") && !anonymous.body.contains("/healthz"))
            let cookie = try await pageSessionCookie(server, "admin", TestServer.adminPassword)
            let signedIn = try await server.request(.GET, "/", headers: [("Cookie", cookie)])
            let publicID = try await server.publicID(ofBranch: 1)
            #expect(signedIn.body.contains("Centre") && signedIn.body.contains("/b/\(publicID)/kiosk") && signedIn.body.contains("/b/\(publicID)/display"))
            #expect(signedIn.body.contains(#"href="/admin""#) && signedIn.body.contains("Signed in as admin"))
        }
    }

    @Test("a failed sign-in keeps the username and says why, in the browser's language; unknown addresses get a page or a problem by Accept")
    func signInAndNotFound() async throws {
        try await withTestServer { server in
            let form = try await server.request(.GET, "/login", headers: [("Accept-Language", "it")])
            #expect(form.body.contains("Accedi a Turno") && form.body.contains("/assets/turno.css"))
            let cookie = try #require(form.headers["Set-Cookie"].first { $0.hasPrefix("turno_login_csrf=") })
            let token = String(cookie.dropFirst("turno_login_csrf=".count).prefix { $0 != ";" })
            let failed = try await server.request(
                .POST,
                "/login",
                body: "username=admin&password=wrong-password&csrf_token=\(token)",
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "turno_login_csrf=\(token)"), ("Accept-Language", "it")]
            )
            #expect(failed.status == 401 && failed.body.contains(#"value="admin""#) && failed.body.contains("Nome utente o password errati."))
            let page = try await server.request(.GET, "/no/such/page", headers: [("Accept", "text/html,application/xhtml+xml")])
            #expect(page.status == 404 && page.headers["Content-Type"].first?.hasPrefix("text/html") == true && page.body.contains("Page not found"))
            let problem = try await server.request(.GET, "/no/such/page")
            #expect(problem.status == 404 && problem.headers["Content-Type"].first == "application/problem+json")
            let api = try await server.request(.GET, "/api/v1/no-such-thing", headers: [("Accept", "text/html")])
            #expect(api.status == 404 && api.headers["Content-Type"].first == "application/problem+json")
        }
    }
}

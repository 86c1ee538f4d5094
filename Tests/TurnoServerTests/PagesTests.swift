import Foundation
import Testing
import TurnoCore

/// The queue pages as the server renders them: the state they show, who may open them, their assets.
@Suite("Queue pages")
struct PagesTests {
    /// The JSON the page's scripts start from, read back out of the page.
    static func pageData(_ html: String) throws -> [String: Any] {
        let start = try #require(html.range(of: #"<script type="application/json" id="page-data">"#))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
    }

    @Test("kiosk, display and ticket page are rendered with the state they show, in the branch's language")
    func customerPages() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            // A name that would end the data script if it were not escaped.
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"name":"Centro </script><b>","language":"it"}"#).status == 200)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)

            let publicID = try await server.publicID(ofBranch: 1)
            // Public pages use the branch's unguessable public id; its sequential id finds nothing.
            #expect(try await server.request(.GET, "/b/1/kiosk").status == 404)
            let kiosk = try await server.request(.GET, "/b/\(publicID)/kiosk")
            #expect(kiosk.status == 200 && kiosk.headers["Content-Type"].first?.hasPrefix("text/html") == true)
            #expect(kiosk.body.contains(#"<html lang="it">"#))
            #expect(!kiosk.body.contains("</script><b>"))
            let kioskData = try Self.pageData(kiosk.body)
            #expect(kioskData["page"] as? String == "kiosk" && kioskData["lang"] as? String == "it")
            let branch = try #require(kioskData["branch"] as? [String: Any])
            #expect(branch["name"] as? String == "Centro </script><b>")
            #expect((branch["services"] as? [[String: Any]])?.count == 2)
            #expect((kioskData["strings"] as? [String: String])?["kiosk_title"] != nil)

            let display = try await server.request(.GET, "/b/\(publicID)/display")
            let displayData = try Self.pageData(display.body)
            #expect(display.status == 200 && (displayData["live_id"] as? Int ?? -1) >= 1)

            let page = try await server.request(.GET, "/t/\(ticket.token)")
            #expect(page.status == 200)
            let status = try #require(try Self.pageData(page.body)["status"] as? [String: Any])
            #expect(status["number"] as? String == "A001" && status["state"] as? String == "waiting" && status["position"] as? Int == 1)
            #expect(page.body.contains(#"<link rel="manifest" href="/manifest.webmanifest">"#))

            let missingBranch = try await server.request(.GET, "/b/99/kiosk")
            #expect(missingBranch.status == 404 && missingBranch.headers["Content-Type"].first?.hasPrefix("text/html") == true)
            #expect(try await server.request(.GET, "/t/not-a-ticket").status == 404)
            // Staff and error pages follow the browser's languages, even a malformed list.
            let italian = try await server.request(.GET, "/b/99/kiosk", headers: [("Accept-Language", "fr-FR,;,it-IT;q=0.8,en;q=0.5")])
            #expect(italian.status == 404 && italian.body.contains(#"<html lang="it">"#))
        }
    }

    @Test("console, admin, reports and complaints need a signed-in page session; all but the console need an admin or a manager")
    func staffPages() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let console = try await server.request(.GET, "/console")
            #expect(console.status == 303 && console.headers["Location"].first == "/login?next=/console")
            // A bearer token is not a browser session.
            #expect(try await admin.call(.GET, "/admin").status == 303)

            let cookie = try await pageSessionCookie(server, "admin", TestServer.adminPassword)
            let signedIn = try await server.request(.GET, "/console", headers: [("Cookie", cookie)])
            #expect(signedIn.status == 200 && signedIn.body.contains(#"<meta name="csrf-token""#))
            let me = try #require(try Self.pageData(signedIn.body)["me"] as? [String: Any])
            #expect(me["role"] as? String == "admin" && (me["csrf_token"] as? String)?.isEmpty == false)
            for page in ["/admin", "/reports", "/complaints"] {
                let answer = try await server.request(.GET, page, headers: [("Cookie", cookie)])
                #expect(answer.status == 200 && answer.body.contains(#"aria-current="page">"#), "\(page)")
            }
            #expect(try await server.request(.GET, "/reports").headers["Location"].first == "/login?next=/reports")

            let password = "operator-password-1"
            _ = try await admin.createUser("olga", role: .operator, branches: [1], password: password)
            let operatorCookie = try await pageSessionCookie(server, "olga", password)
            #expect(try await server.request(.GET, "/console", headers: [("Cookie", operatorCookie)]).status == 200)
            for page in ["/admin", "/reports", "/complaints"] {
                #expect(try await server.request(.GET, page, headers: [("Cookie", operatorCookie)]).status == 403, "\(page)")
            }
        }
    }

    @Test("assets are served with their type and an ETag; the service worker may control /t/; QR codes only for tickets")
    func assets() async throws {
        try await withTestServer { server in
            _ = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let assets = [
                ("live.js", "text/javascript"), ("turno.css", "text/css"), ("kiosk.js", "text/javascript"), ("icon.svg", "image/svg+xml"),
                ("reports.js", "text/javascript"), ("reports.css", "text/css"), ("complaints.js", "text/javascript"), ("complaints.css", "text/css"),
            ]
            for (name, type) in assets {
                let asset = try await server.request(.GET, "/assets/\(name)")
                #expect(asset.status == 200 && asset.headers["Content-Type"].first?.hasPrefix(type) == true, "\(name)")
                let etag = try #require(asset.headers["ETag"].first)
                #expect(try await server.request(.GET, "/assets/\(name)", headers: [("If-None-Match", etag)]).status == 304)
            }
            #expect(try await server.request(.GET, "/assets/nothing.js").status == 404)
            #expect(try await server.request(.GET, "/assets/..%2FPackage.swift").status == 404)
            let worker = try await server.request(.GET, "/sw.js")
            #expect(worker.status == 200 && worker.headers["Service-Worker-Allowed"].first == "/t/")
            #expect(try await server.request(.GET, "/manifest.webmanifest").headers["Content-Type"].first == "application/manifest+json")

            let qr = try await server.request(.GET, "/qr/\(ticket.token).svg")
            #expect(qr.status == 200 && qr.headers["Content-Type"].first == "image/svg+xml" && qr.body.hasPrefix("<svg"))
            #expect(try await server.request(.GET, "/qr/unknown-token.svg").status == 404)
        }
    }

    @Test("the athlete page is for signed-in staff and brings its own assets")
    func athletePage() async throws {
        try await withTestServer { server in
            let anonymous = try await server.request(.GET, "/sessions/users/runner-7")
            #expect(anonymous.status == 303 && anonymous.headers["Location"].first == "/login?next=/sessions/users/runner-7")
            // Only someone with sessions is an athlete (SessionsAthletesTests has the 404 for the others).
            let started = Date.now.addingTimeInterval(-3_600).formatted(.iso8601)
            let recorded = try await StaffClient.admin(server).call(
                .POST,
                "/api/v1/sessions",
                json: #"{"user_id":"runner-7","sport":"run","started_at":"\#(started)","duration_s":1800}"#
            )
            #expect(recorded.status == 201)
            let cookie = try await pageSessionCookie(server, "admin", TestServer.adminPassword)
            let page = try await server.request(.GET, "/sessions/users/runner-7", headers: [("Cookie", cookie)])
            #expect(page.status == 200 && page.body.contains(#"src="/sessions/assets/user.js"#))
            let data = try Self.pageData(page.body)
            #expect(data["user_id"] as? String == "runner-7" && (data["strings"] as? [String: String])?["sessions_title"] != nil)
            for name in ["user.js", "user.css"] {
                #expect(try await server.request(.GET, "/sessions/assets/\(name)").status == 200)
            }
        }
    }

    @Test("the fleet page is for signed-in staff, follows its organization's fleet topic and brings its own assets")
    func fleetPage() async throws {
        try await withTestServer { server in
            let anonymous = try await server.request(.GET, "/fleet")
            #expect(anonymous.status == 303 && anonymous.headers["Location"].first == "/login?next=/fleet")
            let cookie = try await pageSessionCookie(server, "admin", TestServer.adminPassword)
            let page = try await server.request(.GET, "/fleet", headers: [("Cookie", cookie)])
            #expect(page.status == 200 && page.body.contains(#"src="/fleet/assets/fleet.js"#))
            let data = try Self.pageData(page.body)
            #expect(data["topic"] as? String == "fleet:1" && (data["strings"] as? [String: String])?["fleet_title"] != nil)
            for name in ["fleet.js", "fleet.css"] {
                #expect(try await server.request(.GET, "/fleet/assets/\(name)").status == 200)
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The staff pages' sign-in: `GET /login` shows the form, `POST /login` checks it and sets the session
/// cookie, `POST /logout` ends the session. The form itself is protected by a double-submit CSRF cookie.
struct LoginPage: Sendable {
    let identity: Identity
    static let loginCSRFCookie = "turno_login_csrf"

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/login", use: showForm)
        router.post("/login", use: signIn)
        router.post("/logout", use: signOut)
    }

    @Sendable func showForm(_ request: Request, context: TurnoRequestContext) -> Response {
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        let language = SitePage.language(acceptLanguage: request.headers[.acceptLanguage])
        return Self.freshForm(language: language, next: next, username: "", message: nil, status: .ok, request: request)
    }

    @Sendable func signIn(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        var request = request
        let form = try await Self.form(&request)
        let next = Self.safeNext(form["next"])
        let language = SitePage.language(acceptLanguage: request.headers[.acceptLanguage])
        let username = form["username"] ?? ""
        guard let sent = form["csrf_token"], let expected = request.cookies[Self.loginCSRFCookie]?.value, !expected.isEmpty, sent == expected else {
            // Refused (403), with a fresh form to try again with: a browser sees a page, not an error document.
            return Self.freshForm(
                language: language,
                next: next,
                username: username,
                message: SitePage.text("expired", language),
                status: .forbidden,
                request: request
            )
        }
        let user: StaffUser
        do {
            user = try await identity.checkPassword(username: username, password: form["password"] ?? "", address: context.clientAddress)
        } catch let problem as Problem {
            let message = SitePage.text(problem.status == .tooManyRequests ? "locked" : "wrong", language)
            return Self.page(language: language, csrf: sent, next: next, username: username, message: message, status: problem.status)
        }
        let (cookie, _) = try await identity.startPageSession(for: user)
        var response = Response(status: .seeOther, headers: [.location: next])
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: Self.cookie(Identity.sessionCookie, cookie, maxAge: identity.settings.pageSessionSeconds, request: request, path: "/")
            )
        )
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.loginCSRFCookie, "", maxAge: 0, request: request, path: "/login")))
        return response
    }

    @Sendable func signOut(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        if let cookie = request.cookies[Identity.sessionCookie]?.value, context.principal?.viaSessionCookie == true {
            try await identity.endPageSession(cookie: cookie)
        }
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Identity.sessionCookie, "", maxAge: 0, request: request, path: "/")))
        return response
    }

    /// The form with a new CSRF token, set in its cookie as well.
    static func freshForm(language: String, next: String, username: String, message: String?, status: HTTPResponse.Status, request: Request) -> Response {
        let token = RandomToken.make(bytes: 24)
        var response = page(language: language, csrf: token, next: next, username: username, message: message, status: status)
        response.headers.append(HTTPField(name: .setCookie, value: cookie(loginCSRFCookie, token, maxAge: 3_600, request: request, path: "/login")))
        return response
    }

    /// Only local paths, so the sign-in page cannot be used to send people elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    /// Session cookies are HttpOnly and SameSite=Strict, and Secure whenever the browser reached us over
    /// HTTPS (directly or through a proxy) or on loopback, where browsers accept Secure cookies over HTTP.
    static func cookie(_ name: String, _ value: String, maxAge: Int, request: Request, path: String) -> String {
        let host = request.head.authority ?? ""
        let loopback = host.hasPrefix("localhost") || host.hasPrefix("127.") || host.hasPrefix("[::1]")
        let https = request.uri.scheme == .https || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        return "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (https || loopback ? "; Secure" : "")
    }

    static func form(_ request: inout Request) async throws -> [String: String] {
        let body = try await request.collectBody(upTo: 64 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    /// The form, in the browser's language; after a failed attempt with the username kept and the reason shown.
    static func page(language: String, csrf: String, next: String, username: String, message: String?, status: HTTPResponse.Status) -> Response {
        let t = { SitePage.text($0, language) }
        let escape = SitePage.escape
        let main = """
            <section class="card sign-in">
            <h1>\(t("sign_in_title"))</h1>
            <p>\(t("sign_in_intro"))</p>
            \(message.map { #"<p class="error" role="alert">\#(escape($0))</p>"# } ?? "")
            <form method="post" action="/login">
            <input type="hidden" name="csrf_token" value="\(escape(csrf))">
            <input type="hidden" name="next" value="\(escape(next))">
            <label class="field">\(t("username")) <input name="username" autocomplete="username" required value="\(escape(username))"\(username.isEmpty ? " autofocus" : "")></label>
            <label class="field">\(t("password")) <input name="password" type="password" autocomplete="current-password" required\(username.isEmpty ? "" : " autofocus")></label>
            <button class="button primary block" type="submit">\(t("sign_in"))</button>
            </form></section>
            """
        return SitePage.html(title: t("sign_in"), language: language, main: main, status: status)
    }
}

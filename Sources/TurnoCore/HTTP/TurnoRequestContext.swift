import Foundation
import Hummingbird
import HummingbirdWebSocket

/// The request context of every Turno route.
public struct TurnoRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The request id echoed in `X-Request-Id` and the access log.
    public var requestID: String = ""
    /// Who is calling, once `AuthenticationMiddleware` has looked; nil for anonymous requests.
    public var principal: Principal?
    /// The sign-in session (refresh-token family) of the access token used, for logout.
    public var session: String?
    /// The CSRF token of the page session used, if any.
    public var csrfToken: String?
    /// The client's IP address (from `X-Forwarded-For` when the proxy is trusted).
    public var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    public var responseEncoder: JSONEncoder { JSONCoding.encoder }

    public var requestDecoder: TurnoJSONDecoder { TurnoJSONDecoder() }

    /// The signed-in caller of a route behind `RequireAccess` (which has answered 401 already when there is none);
    /// a route outside any group that calls this answers 401 too rather than crash.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw Problem(.unauthorized, detail: "sign in first: this needs a bearer token, an API key or a page session") }
        return principal
    }

    /// The staff member signed in to the pages (a page session, which carries a CSRF token); nil when the browser
    /// must sign in first (``Response/signIn(returningTo:)``).
    public var pageSession: Principal? {
        guard let principal, principal.viaSessionCookie else { return nil }
        return principal
    }

    /// `BodyLimitMiddleware` enforces the configured limit before any route reads the body.
    public var maxUploadSize: Int { .max }
}

extension Response {
    /// Sends a browser to the sign-in form, and from there back to `path` (already URL-encoded, as requested).
    public static func signIn(returningTo path: String) -> Response {
        Response(status: .seeOther, headers: [.location: "/login?next=\(path)"])
    }
}

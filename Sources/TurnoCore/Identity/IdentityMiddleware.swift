import Foundation
import HTTPTypes
import Hummingbird

/// Works out who is calling — an access token or API key in `Authorization: Bearer`, or a page's session
/// cookie — and where from. A request with no credentials goes on anonymously (routes decide whether
/// that is enough); a request with bad credentials is refused at once. Cookie-authenticated requests that
/// change anything must carry the session's CSRF token in `X-CSRF-Token`.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    let identity: Identity
    let trustProxy: Bool

    public init(identity: Identity, trustProxy: Bool) {
        self.identity = identity
        self.trustProxy = trustProxy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        if trustProxy, let forwarded = request.headers[.xForwardedFor]?.split(separator: ",").first {
            context.clientAddress = forwarded.trimmingCharacters(in: .whitespaces)
        }
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw Problem(.unauthorized, title: "Invalid credentials", detail: "use Authorization: Bearer <access token or API key>", headers: [.wwwAuthenticate: "Bearer"])
            }
            let (principal, session) = try await identity.principal(bearer: String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            context.principal = principal
            context.session = session
        } else if let cookie = request.cookies[Identity.sessionCookie]?.value, !cookie.isEmpty {
            if let (principal, csrf) = try await identity.pageSession(cookie: cookie) {
                if ![.get, .head, .options].contains(request.method) {
                    var sent = request.headers[.csrfToken]
                    if sent == nil, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                        // Plain HTML forms cannot set headers: they send the token as a field.
                        sent = try await LoginPage.form(&request)["csrf_token"]
                    }
                    guard let sent, sent == csrf else {
                        throw Problem(.forbidden, title: "CSRF check failed", detail: "requests from pages that change anything must carry the page's CSRF token in X-CSRF-Token")
                    }
                }
                context.principal = principal
                context.csrfToken = csrf
            }
        }
        return try await next(request, context)
    }
}

/// Lets a request through only when its principal may use `group` (see `AccessPolicy`): 401 without
/// credentials, 403 with credentials that do not cover the group.
public struct RequireAccess: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    let group: RouteGroup

    public init(_ group: RouteGroup) {
        self.group = group
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch AccessPolicy.decide(context.principal, for: group) {
        case .allowed:
            return try await next(request, context)
        case .unauthenticated:
            throw Problem(.unauthorized, title: "Sign-in required", detail: "sign in (Authorization: Bearer <access token>) to use \(request.uri.path)", headers: [.wwwAuthenticate: "Bearer"])
        case .forbidden:
            throw Problem(.forbidden, detail: "your role does not allow \(group.rawValue) routes")
        }
    }
}

/// Refuses requests over a limit with 429 and `Retry-After`. Counts per client address, or per principal
/// (falling back to the address for anonymous callers).
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    public enum Key: Sendable { case address, principal }
    let limiter: RateLimiter
    let limit: RateLimiter.Limit?
    let name: String
    let key: Key
    let applies: @Sendable (Request) -> Bool

    public init(limiter: RateLimiter, limit: RateLimiter.Limit?, name: String, key: Key, applies: @escaping @Sendable (Request) -> Bool = { _ in true }) {
        self.limiter = limiter
        self.limit = limit
        self.name = name
        self.key = key
        self.applies = applies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let limit, applies(request) else { return try await next(request, context) }
        let who = switch key {
        case .address: context.clientAddress
        case .principal: context.principal?.auditName ?? context.clientAddress
        }
        if let retryAfter = limiter.take(name + " " + who, limit: limit) {
            throw Problem(
                .tooManyRequests, title: "Too many requests",
                detail: "the \(name) limit is \(limit.capacity) requests per \(limit.period.components.seconds) seconds; try again in \(retryAfter) seconds",
                headers: [.retryAfter: String(retryAfter)]
            )
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let csrfToken = Self("X-CSRF-Token")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}

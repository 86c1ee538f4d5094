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
    let trustedProxies: AddressRanges

    public init(identity: Identity, trustedProxies: AddressRanges) {
        self.identity = identity
        self.trustedProxies = trustedProxies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        // Several X-Forwarded-For lines are one list, in order (RFC 9110, section 5.3).
        let forwarded = request.headers[values: .xForwardedFor]
        context.clientAddress = trustedProxies.clientAddress(
            peer: context.clientAddress,
            forwardedFor: forwarded.isEmpty ? nil : forwarded.joined(separator: ",")
        )
        if request.uri.path == OperationsRoutes.metricsPath {
            // Its bearer token is the scraper's, checked by the route itself.
            return try await next(request, context)
        }
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw Problem(
                    .unauthorized,
                    title: "Invalid credentials",
                    detail: "use Authorization: Bearer <access token or API key>",
                    headers: [.wwwAuthenticate: "Bearer"]
                )
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
                        throw Problem(
                            .forbidden,
                            title: "CSRF check failed",
                            detail: "requests from pages that change anything must carry the page's CSRF token in X-CSRF-Token"
                        )
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
            throw Problem(
                .unauthorized,
                title: "Sign-in required",
                detail: "sign in (Authorization: Bearer <access token>) to use \(request.uri.path)",
                headers: [.wwwAuthenticate: "Bearer"]
            )
        case .forbidden:
            throw Problem(.forbidden, detail: "your role does not allow \(group.name) routes")
        }
    }
}

/// Refuses requests over a limit with 429 and `Retry-After`. Each request draws from one bucket, chosen by
/// `bucket`: per signed-in user or API key, or per client address for anonymous callers.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    /// A bucket: the limit's name (in the answer), the key that counts and the limit.
    public struct Bucket: Sendable {
        public var name: String
        public var key: String
        public var limit: RateLimiter.Limit
    }

    let limiter: RateLimiter
    let bucket: @Sendable (Request, Context) -> Bucket?

    public init(limiter: RateLimiter, bucket: @escaping @Sendable (Request, Context) -> Bucket?) {
        self.limiter = limiter
        self.bucket = bucket
    }

    /// One limit per signed-in user or API key (anonymous callers: per address), for the requests `applies` picks.
    public static func perPrincipal(
        limiter: RateLimiter,
        limit: RateLimiter.Limit?,
        name: String,
        applies: @escaping @Sendable (Request) -> Bool = { _ in true }
    ) -> RateLimitMiddleware {
        RateLimitMiddleware(limiter: limiter) { request, context in
            guard let limit, applies(request) else { return nil }
            return Bucket(name: name, key: context.principal?.auditName ?? context.clientAddress, limit: limit)
        }
    }

    /// The CSV export limit (`TURNO_RATE_EXPORTS`), per user or key, on the requests of a route group that ask for CSV.
    public static func exports(limiter: RateLimiter, limit: RateLimiter.Limit?) -> RateLimitMiddleware {
        perPrincipal(limiter: limiter, limit: limit, name: "export") { request in
            request.uri.path.hasSuffix(".csv") || request.headers[.accept]?.contains("text/csv") == true
        }
    }

    /// The `/api/` limits: signed-in staff and keys each have their own bucket (so a whole office behind one NAT
    /// does not share one); anonymous callers count per address, with the public reads that pages repeat on every
    /// live event (`isPublicRead`) in a bucket of their own.
    public static func api(limiter: RateLimiter, limits: RateLimits, isPublicRead: @escaping @Sendable (Request) -> Bool) -> RateLimitMiddleware {
        RateLimitMiddleware(limiter: limiter) { request, context in
            guard request.uri.path.hasPrefix("/api/") else { return nil }
            if let principal = context.principal {
                return limits.signedIn.map { Bucket(name: "API", key: principal.auditName, limit: $0) }
            }
            if isPublicRead(request) {
                return limits.publicReads.map { Bucket(name: "public read", key: context.clientAddress, limit: $0) }
            }
            return limits.api.map { Bucket(name: "API", key: context.clientAddress, limit: $0) }
        }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let bucket = bucket(request, context) else { return try await next(request, context) }
        if let retryAfter = limiter.take(bucket.name + " " + bucket.key, limit: bucket.limit) {
            let limit = bucket.limit
            throw Problem(
                .tooManyRequests,
                title: "Too many requests",
                detail:
                    "the \(bucket.name) limit is \(limit.capacity) requests per \(limit.period.components.seconds) seconds; try again in \(retryAfter) seconds",
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

import Foundation
import Hummingbird

/// `/api/v1/auth/*`, `/api/v1/me`, `/api/v1/users`, `/api/v1/api-keys`, `/api/v1/audit` and the page sign-in.
public struct IdentityRoutes: Sendable {
    let identity: Identity
    let limiter: RateLimiter
    let exportLimit: RateLimiter.Limit?
    /// The scopes API keys may be given: those the modules accept.
    let scopes: [Scope]

    public init(identity: Identity, limiter: RateLimiter, exportLimit: RateLimiter.Limit?, scopes: [Scope]) {
        self.identity = identity
        self.limiter = limiter
        self.exportLimit = exportLimit
        self.scopes = scopes
    }

    struct LoginRequest: Decodable {
        var username: String
        var password: String
    }

    struct RefreshRequest: Decodable {
        var refreshToken: String
    }

    /// Who is signed in: `GET /api/v1/me`, and the staff pages' data.
    public struct MeResponse: Codable, Sendable, ResponseEncodable {
        var kind: String
        var organizationId: Int64
        var userId: Int64?
        var username: String?
        var role: Role?
        var branchIds: [Int64]
        var scopes: [Scope]
        /// Present for page sessions: the token state-changing requests must carry in `X-CSRF-Token`.
        var csrfToken: String?

        public init(_ principal: Principal, csrfToken: String?) {
            kind = principal.userID == nil ? "api_key" : "user"
            organizationId = principal.organizationID
            userId = principal.userID
            username = { if case .user(_, let name, _) = principal.kind { name } else { nil } }()
            role = principal.role
            branchIds = principal.branchIDs.sorted()
            scopes = principal.scopes.sorted { $0.rawValue < $1.rawValue }
            self.csrfToken = csrfToken
        }
    }

    public func add(to router: Router<TurnoRequestContext>) {
        let auth = router.group("/api/v1/auth")
        auth.post("/login", use: login)
        auth.post("/refresh", use: refresh)
        auth.group("/logout").add(middleware: RequireAccess(.account)).post(use: logout)

        router.group("/api/v1/me").add(middleware: RequireAccess(.account)).get(use: me)

        UsersController(identity: identity).add(to: router.group("/api/v1/users").add(middleware: RequireAccess(.users)))
        APIKeysController(identity: identity, scopes: scopes).add(to: router.group("/api/v1/api-keys").add(middleware: RequireAccess(.apiKeys)))
        AuditController(identity: identity).add(
            to: router.group("/api/v1").add(middleware: RequireAccess(.audit))
                .add(middleware: RateLimitMiddleware.exports(limiter: limiter, limit: exportLimit))
        )
        LoginPage(identity: identity).add(to: router)
    }

    @Sendable func login(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let pair = try await identity.login(username: body.username, password: body.password, address: context.clientAddress)
        return try Response.json(pair, status: .ok)
    }

    @Sendable func refresh(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        return try Response.json(try await identity.refresh(token: body.refreshToken, address: context.clientAddress), status: .ok)
    }

    @Sendable func logout(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let session = context.session else {
            throw Problem.badRequest("logout ends the sign-in of an access token; page sessions sign out with POST /logout")
        }
        try await identity.logout(session: session, organizationID: principal.organizationID, principal: principal, address: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func me(_ request: Request, context: TurnoRequestContext) throws -> MeResponse {
        MeResponse(try context.requirePrincipal(), csrfToken: context.csrfToken)
    }
}

extension Identity.TokenPair: ResponseEncodable {}
extension APIKeys.Created: ResponseEncodable {}
extension StaffUserResponse: ResponseEncodable {}

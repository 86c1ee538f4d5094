import Foundation
import HummingbirdBcrypt
import JWTKit
import Logging
import NIOPosix
import SQLKit
import Synchronization

/// Sign-in, tokens and credentials for staff and machines. One per node; all its state that matters
/// lives in the database, and the in-memory `StaffDirectory` follows it through events.
public final class Identity: Sendable {
    public let storage: Storage
    public let directory: StaffDirectory
    public let settings: IdentitySettings
    let keys: JWTKeyCollection
    private let logger: Logger
    /// A real bcrypt hash of a random password: unknown usernames are checked against it, so that
    /// they take as long to refuse as a wrong password. Computed in the background so start-up does not wait.
    private let decoyHash: Task<String, any Error>
    /// Access tokens whose signature has been checked, with their claims.
    let verifiedTokens = Mutex<[String: AccessClaims]>([:])

    static let lockoutWindowMs: Int64 = 15 * 60 * 1000
    static let lockoutThreshold = 10

    init(storage: Storage, directory: StaffDirectory, settings: IdentitySettings, keys: JWTKeyCollection, decoyHash: Task<String, any Error>, logger: Logger) {
        self.storage = storage
        self.directory = directory
        self.settings = settings
        self.keys = keys
        self.decoyHash = decoyHash
        self.logger = logger
    }

    /// Loads the signing key (creating and storing one on first start), creates the first organization and
    /// its `admin` on an empty database, and loads the staff directory.
    public static func prepare(storage: Storage, settings: IdentitySettings, logger: Logger) async throws -> Identity {
        let secret: String
        if let configured = settings.signingKey {
            secret = configured
        } else {
            secret = try await storage.engine.withExclusiveLock {
                try await storage.write { try await IdentityStore.signingKey(in: $0) }
            }
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let decoy = Task { try await hash(RandomToken.make(), cost: settings.bcryptCost) }
        let identity = Identity(storage: storage, directory: StaffDirectory(), settings: settings, keys: keys, decoyHash: decoy, logger: logger)
        try await identity.createFirstAdministrator()
        identity.directory.load(try await storage.read { try await IdentityStore.allUsers(in: $0) })
        return identity
    }

    /// bcrypt on NIO's thread pool, away from the threads that serve requests.
    static func hash(_ password: String, cost: Int) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    public func hashPassword(_ password: String) async throws -> String {
        try await Self.hash(password, cost: settings.bcryptCost)
    }

    private func createFirstAdministrator() async throws {
        try await storage.engine.withExclusiveLock {
            guard try await !storage.read({ try await IdentityStore.hasOrganizations(in: $0) }) else { return }
            let password = settings.adminPassword ?? RandomToken.make(bytes: 12)
            let (_, admin) = try await createOrganization(name: "Default organization", adminUsername: "admin", adminPassword: password)
            if settings.adminPassword != nil {
                // Chosen by whoever installed it, not generated: the first-start checklist need not ask to change it.
                try await storage.write { try await IdentityStore.notePasswordChosen(userID: admin.id, in: $0) }
            }
            if settings.adminPassword == nil {
                // Shown once, on the console of the first start; it is never stored in clear or logged.
                print(
                    """

                    ┌──────────────────────────────────────────────────────────────┐
                      First start: created the organization and its user `admin`.
                      Password: \(password)
                      It is shown only now. Sign in at /login and change it in
                      Administration → Staff → admin → Edit (the first-start
                      checklist there links to it), or set TURNO_ADMIN_PASSWORD
                      before the first start next time.
                    └──────────────────────────────────────────────────────────────┘

                    """
                )
            } else {
                logger.notice("first start: created user admin with the password from TURNO_ADMIN_PASSWORD")
            }
        }
    }

    /// Creates an organization (a tenant) with its first administrator.
    public func createOrganization(name: String, adminUsername: String, adminPassword: String) async throws -> (organizationID: Int64, admin: StaffUser) {
        guard let username = Username.normalized(adminUsername) else {
            throw Problem.unprocessable("usernames have 2 to 64 letters, digits, dots, dashes or underscores")
        }
        if let problem = PasswordRule.problem(with: adminPassword) { throw Problem.unprocessable(problem) }
        let hash = try await hashPassword(adminPassword)
        let result = try await storage.write { transaction in
            let organizationID = try await IdentityStore.insertOrganization(name: name, in: transaction)
            if try await IdentityStore.user(named: username, in: transaction.sql) != nil {
                throw StaffRuleViolation.usernameTaken(username)
            }
            let admin = try await IdentityStore.insertUser(
                organizationID: organizationID,
                username: username,
                passwordHash: hash,
                role: .admin,
                branchIDs: [],
                at: transaction.timeMs,
                in: transaction.sql
            )
            try await transaction.append(try UserChanged(admin).event())
            try await Audit.record(
                in: transaction,
                organizationID: organizationID,
                actor: "system",
                action: "organization.created",
                target: "organization:\(organizationID)",
                detail: ["name": name, "admin": username],
                address: ""
            )
            return (organizationID, admin)
        }
        directory.apply(result.1)
        return result
    }

    // MARK: Signing in

    /// What a successful sign-in or refresh returns.
    public struct TokenPair: Codable, Sendable {
        public var accessToken: String
        public var refreshToken: String
        public var expiresIn: Int
        public var tokenType = "Bearer"
    }

    static let wrongCredentials = Problem(.unauthorized, title: "Sign-in failed", detail: "the username or password is wrong")

    /// Checks a username and password; refuses with the same problem, after the same work, whether the user
    /// is unknown or the password wrong, and with 429 while the username is locked out.
    public func checkPassword(username rawUsername: String, password: String, address: String) async throws -> StaffUser {
        let username = Username.normalized(rawUsername) ?? rawUsername.lowercased()
        let now = storage.clock.nowMilliseconds()
        let failures = try await storage.read { try await IdentityStore.loginFailures(of: username, sinceMs: now - Self.lockoutWindowMs, in: $0) }
        if failures.count >= Self.lockoutThreshold {
            // Locked until the oldest failure that still counts leaves the window and fewer than the threshold remain.
            let unlock = failures[failures.count - Self.lockoutThreshold] + Self.lockoutWindowMs
            let seconds = max(1, Int((unlock - now + 999) / 1000))
            throw Problem(
                .tooManyRequests,
                title: "Too many failed sign-ins",
                detail: "too many failed sign-ins for this username; try again in \(seconds) seconds",
                headers: [.retryAfter: String(seconds)]
            )
        }
        let user = try await storage.read { try await IdentityStore.user(named: username, in: $0) }
        let storedHash = if let user { user.passwordHash } else { try await decoyHash.value }
        let matches = try await Self.verify(password, hash: storedHash)
        guard let user, matches, user.active else {
            try await storage.write { transaction in
                try await IdentityStore.noteLoginFailure(of: username, in: transaction)
                try await Audit.record(
                    in: transaction,
                    organizationID: user?.organizationID ?? 0,
                    actor: "anonymous",
                    action: "auth.login_failed",
                    target: "user:\(username)",
                    detail: ["reason": user == nil ? "unknown user" : (user!.active ? "wrong password" : "inactive user")],
                    address: address
                )
            }
            throw Self.wrongCredentials
        }
        try await storage.write { transaction in
            try await IdentityStore.forgetLoginFailures(of: username, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: user.organizationID,
                actor: "user:\(user.id) (\(user.username))",
                action: "auth.login",
                target: "user:\(user.id)",
                detail: [:],
                address: address
            )
        }
        return user
    }

    public func login(username: String, password: String, address: String) async throws -> TokenPair {
        let user = try await checkPassword(username: username, password: password, address: address)
        return try await issueTokens(for: user, family: RandomToken.make(bytes: 16))
    }

    private func issueTokens(for user: StaffUser, family: String) async throws -> TokenPair {
        let now = storage.clock.nowMilliseconds()
        let refresh = RandomToken.make(bytes: 32)
        try await storage.write { transaction in
            try await IdentityStore.insertRefreshToken(
                hash: SecretHash.of(refresh),
                of: user,
                family: family,
                expiresAtMs: now + Int64(settings.refreshTokenSeconds) * 1000,
                in: transaction
            )
        }
        let claims = AccessClaims(
            sub: .init(value: String(user.id)),
            exp: .init(value: Date(milliseconds: now + Int64(settings.accessTokenSeconds) * 1000)),
            iat: .init(value: Date(milliseconds: now)),
            org: user.organizationID,
            epoch: user.tokenEpoch,
            sid: family
        )
        return TokenPair(accessToken: try await keys.sign(claims), refreshToken: refresh, expiresIn: settings.accessTokenSeconds)
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works once: presenting a used one again
    /// means it was stolen or replayed, so its whole family (every token of that sign-in) is revoked.
    public func refresh(token: String, address: String) async throws -> TokenPair {
        let invalid = Problem(.unauthorized, title: "Invalid refresh token", detail: "the refresh token is invalid, expired or already used; sign in again")
        let hash = SecretHash.of(token)
        enum Outcome: Sendable {
            case rotated(StaffUser, String)
            case reused(String, Int64)
            case invalid
        }
        let outcome: Outcome = try await storage.write { transaction in
            guard let stored = try await IdentityStore.refreshToken(hash: hash, in: transaction.sql),
                let user = try await IdentityStore.user(id: stored.userID, in: transaction.sql)
            else { return .invalid }
            let family = stored.family
            if stored.usedAtMs != nil {
                if stored.revokedAtMs == nil {
                    try await IdentityStore.revokeRefreshTokens(family: family, in: transaction)
                    try await transaction.append(
                        SessionRevoked(
                            session: family,
                            organizationId: user.organizationID,
                            expiresAtMs: transaction.timeMs + Int64(settings.accessTokenSeconds) * 1000
                        ).event()
                    )
                    try await Audit.record(
                        in: transaction,
                        organizationID: user.organizationID,
                        actor: "anonymous",
                        action: "auth.refresh_reused",
                        target: "user:\(user.id)",
                        detail: ["effect": "sign-in revoked"],
                        address: address
                    )
                }
                return .reused(family, user.organizationID)
            }
            guard stored.revokedAtMs == nil, stored.expiresAtMs > transaction.timeMs, stored.tokenEpoch == user.tokenEpoch, user.active,
                try await IdentityStore.claimRefreshToken(hash: hash, in: transaction)
            else { return .invalid }
            return .rotated(user, family)
        }
        switch outcome {
        case .rotated(let user, let family):
            return try await issueTokens(for: user, family: family)
        case .reused(let family, _):
            let now = storage.clock.nowMilliseconds()
            directory.revoke(session: family, until: now + Int64(settings.accessTokenSeconds) * 1000, now: now)
            throw invalid
        case .invalid:
            throw invalid
        }
    }

    /// Ends the sign-in session of `principal`'s access token: its refresh tokens and access tokens stop working.
    public func logout(session: String, organizationID: Int64, principal: Principal, address: String) async throws {
        let now = storage.clock.nowMilliseconds()
        let expiry = now + Int64(settings.accessTokenSeconds) * 1000
        try await storage.write { transaction in
            try await IdentityStore.revokeRefreshTokens(family: session, in: transaction)
            try await transaction.append(SessionRevoked(session: session, organizationId: organizationID, expiresAtMs: expiry).event())
            try await Audit.record(
                in: transaction,
                organizationID: organizationID,
                actor: principal.auditName,
                action: "auth.logout",
                target: principal.auditName,
                detail: [:],
                address: address
            )
        }
        directory.revoke(session: session, until: expiry, now: now)
    }

    // MARK: Checking credentials

    static let invalidToken = Problem(
        .unauthorized,
        title: "Invalid credentials",
        detail: "the access token is invalid, expired or revoked",
        headers: [.wwwAuthenticate: #"Bearer error="invalid_token""#]
    )

    /// The principal behind a bearer credential: an access token, or an API key (`tk_…`).
    public func principal(bearer credential: String) async throws -> (Principal, session: String?) {
        if credential.hasPrefix(APIKeys.prefix) {
            return (try await APIKeys.principal(for: credential, storage: storage), nil)
        }
        guard let claims = await verifiedClaims(credential),
            let userID = Int64(claims.sub.value),
            let user = directory.user(id: userID),
            user.active, user.tokenEpoch == claims.epoch, user.organizationID == claims.org,
            !directory.isRevoked(session: claims.sid)
        else { throw Self.invalidToken }
        return (
            Principal(
                kind: .user(id: user.id, username: user.username, role: user.role),
                organizationID: user.organizationID,
                branchIDs: user.branchIDs,
                viaSessionCookie: false
            ), claims.sid
        )
    }
}

extension Identity {
    /// Verifies a token's signature once; later requests with the same token find its claims in memory.
    /// Expiry and revocation are still checked on every request, by the caller and here.
    func verifiedClaims(_ token: String) async -> AccessClaims? {
        let now = Date(milliseconds: storage.clock.nowMilliseconds())
        if let cached = verifiedTokens.withLock({ $0[token] }) {
            return cached.exp.value > now ? cached : nil
        }
        guard let claims = try? await keys.verify(token, as: AccessClaims.self), claims.exp.value > now else { return nil }
        verifiedTokens.withLock { cache in
            // Bounded: at worst, every token is verified again after a flush.
            if cache.count >= 10_000 { cache.removeAll(keepingCapacity: true) }
            cache[token] = claims
        }
        return claims
    }
}

/// The claims of an access token. The role is not trusted from the token: it is read from the directory,
/// and `epoch` ties the token to the password and role it was issued under.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var org: Int64
    var epoch: Int64
    /// The sign-in session (refresh-token family) the token belongs to.
    var sid: String

    /// The signature is all JWTKit checks: expiry is checked against the server's clock by ``Identity/verifiedClaims(_:)``.
    func verify(using algorithm: some JWTAlgorithm) throws {}
}

/// Identity settings: token lifetimes, bcrypt cost, the signing key and the first administrator's password.
public struct IdentitySettings: Sendable {
    public var accessTokenSeconds: Int
    public var refreshTokenSeconds: Int
    public var pageSessionSeconds: Int
    /// At least 12 from the command line; tests may use less to stay fast.
    public var bcryptCost: Int
    public var signingKey: String?
    public var adminPassword: String?

    public init(
        accessTokenSeconds: Int = 900,
        refreshTokenSeconds: Int = 30 * 86_400,
        pageSessionSeconds: Int = 12 * 3_600,
        bcryptCost: Int = 12,
        signingKey: String? = nil,
        adminPassword: String? = nil
    ) {
        self.accessTokenSeconds = accessTokenSeconds
        self.refreshTokenSeconds = refreshTokenSeconds
        self.pageSessionSeconds = pageSessionSeconds
        self.bcryptCost = bcryptCost
        self.signingKey = signingKey
        self.adminPassword = adminPassword
    }
}

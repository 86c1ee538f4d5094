import Configuration
import Foundation

/// Everything `turno serve` needs to start, resolved from flags, `TURNO_*` environment variables,
/// and the defaults, in that order of precedence.
public struct ServerSettings: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case json
        case text
    }

    public var host: String
    public var port: Int
    public var database: DatabaseLocation
    public var logFormat: LogFormat
    public var logLevel: String
    /// Largest request body accepted, in bytes; larger bodies get 413.
    public var maxBody: Int
    /// How many recent events each node keeps in memory so live clients can resume.
    public var liveReplayCapacity: Int
    /// How many messages may wait for one live client before it is disconnected as too slow.
    public var liveClientBuffer: Int
    /// Seconds between heartbeats on idle live connections.
    public var liveHeartbeatSeconds: Int
    public var identity: IdentitySettings
    public var rateLimits: RateLimits
    /// The proxies (nginx) whose `X-Forwarded-For` names the client; none by default.
    public var trustedProxies: AddressRanges
    /// The bearer token `/metrics` asks for; without one it answers only clients on this machine.
    public var metricsToken: String?
    /// PEM certificate chain and private key: serve HTTPS directly.
    public var tls: (certificate: String, key: String)?
    /// Where these settings came from: modules read their own keys from it (`turno.simulateDrones`, say), so that
    /// the platform names none of them.
    public var config: ConfigReader

    public static let defaultDatabase = "sqlite://./data/turno.sqlite"
    public static let defaultMaxBody = 1 << 20

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        database: DatabaseLocation,
        logFormat: LogFormat = .text,
        logLevel: String = "info",
        maxBody: Int = ServerSettings.defaultMaxBody,
        liveReplayCapacity: Int = 10_000,
        liveClientBuffer: Int = 1_000,
        liveHeartbeatSeconds: Int = 15,
        identity: IdentitySettings = IdentitySettings(),
        rateLimits: RateLimits = RateLimits(),
        trustedProxies: AddressRanges = .none,
        metricsToken: String? = nil,
        tls: (certificate: String, key: String)? = nil,
        config: ConfigReader = ConfigReader(providers: [InMemoryProvider(name: "defaults", values: [:])])
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.logFormat = logFormat
        self.logLevel = logLevel
        self.maxBody = maxBody
        self.liveReplayCapacity = liveReplayCapacity
        self.liveClientBuffer = liveClientBuffer
        self.liveHeartbeatSeconds = liveHeartbeatSeconds
        self.identity = identity
        self.rateLimits = rateLimits
        self.trustedProxies = trustedProxies
        self.metricsToken = metricsToken
        self.tls = tls
        self.config = config
    }

    /// Reads the settings from a configuration reader whose keys are `turno.host`, `turno.port`,
    /// `turno.database`, `turno.logFormat`, `turno.maxBody`, … (environment: `TURNO_HOST`, `TURNO_MAX_BODY`, …).
    public init(config: ConfigReader) throws(SettingsError) {
        let turno = config.scoped(to: "turno")
        let host = turno.string(forKey: "host", default: "127.0.0.1")
        let port = turno.int(forKey: "port", default: 8080)
        guard (0...65535).contains(port) else {
            throw SettingsError("port must be between 0 and 65535, got \(port)")
        }
        let databaseText = turno.string(forKey: "database", default: Self.defaultDatabase)
        let database = try DatabaseLocation(parsing: databaseText)
        let formatText = turno.string(forKey: "logFormat", default: "text")
        guard let logFormat = LogFormat(rawValue: formatText) else {
            throw SettingsError("log format must be json or text, got \(formatText)")
        }
        let maxBody = turno.int(forKey: "maxBody", default: Self.defaultMaxBody)
        guard maxBody > 0 else {
            throw SettingsError("max body must be a positive number of bytes, got \(maxBody)")
        }
        let replay = turno.int(forKey: "liveReplay", default: 10_000)
        let buffer = turno.int(forKey: "liveClientBuffer", default: 1_000)
        let heartbeat = turno.int(forKey: "liveHeartbeat", default: 15)
        guard replay > 0, buffer > 0, heartbeat > 0 else {
            throw SettingsError("live replay, client buffer and heartbeat must be positive")
        }
        let bcryptCost = turno.int(forKey: "bcryptCost", default: 12)
        guard (12...16).contains(bcryptCost) else { throw SettingsError("bcrypt cost must be between 12 and 16, got \(bcryptCost)") }
        let accessSeconds = turno.int(forKey: "accessTokenSeconds", default: 900)
        guard (60...86_400).contains(accessSeconds) else { throw SettingsError("access tokens must last between 60 and 86400 seconds, got \(accessSeconds)") }
        let signingKey = turno.string(forKey: "jwtSecret", isSecret: true)
        if let signingKey, signingKey.utf8.count < 32 { throw SettingsError("the JWT signing secret must have at least 32 characters") }
        let adminPassword = turno.string(forKey: "adminPassword", isSecret: true)
        if let adminPassword, let problem = PasswordRule.problem(with: adminPassword) { throw SettingsError("TURNO_ADMIN_PASSWORD: \(problem)") }
        let certificate = turno.string(forKey: "tlsCert")
        let key = turno.string(forKey: "tlsKey")
        guard (certificate == nil) == (key == nil) else { throw SettingsError("TLS needs both a certificate (--tls-cert) and a key (--tls-key)") }
        if turno.string(forKey: "trustProxy") != nil {
            throw SettingsError("TURNO_TRUST_PROXY is replaced by TURNO_TRUSTED_PROXIES: list your proxies' addresses, such as 127.0.0.1")
        }
        let trustedProxies = try AddressRanges(parsing: turno.string(forKey: "trustedProxies", default: ""))
        let metricsToken = turno.string(forKey: "metricsToken", isSecret: true)
        if let metricsToken, metricsToken.utf8.count < 16 { throw SettingsError("TURNO_METRICS_TOKEN must have at least 16 characters") }
        self.init(
            host: host,
            port: port,
            database: database,
            logFormat: logFormat,
            logLevel: turno.string(forKey: "logLevel", default: "info"),
            maxBody: maxBody,
            liveReplayCapacity: replay,
            liveClientBuffer: buffer,
            liveHeartbeatSeconds: heartbeat,
            identity: IdentitySettings(accessTokenSeconds: accessSeconds, bcryptCost: bcryptCost, signingKey: signingKey, adminPassword: adminPassword),
            rateLimits: RateLimits(
                api: try RateLimiter.Limit(parsing: turno.string(forKey: "rateApi", default: "1000/hour")),
                signedIn: try RateLimiter.Limit(parsing: turno.string(forKey: "rateSignedIn", default: "20000/hour")),
                publicReads: try RateLimiter.Limit(parsing: turno.string(forKey: "ratePublicReads", default: "100/second")),
                exports: try RateLimiter.Limit(parsing: turno.string(forKey: "rateExports", default: "100/hour"))
            ),
            trustedProxies: trustedProxies,
            metricsToken: metricsToken,
            tls: certificate.flatMap { certificate in key.map { (certificate, $0) } },
            config: config
        )
    }
}

/// Request limits per route group; nil turns a limit off.
public struct RateLimits: Sendable {
    /// Anonymous `/api/` requests, per client address.
    public var api: RateLimiter.Limit?
    /// `/api/` requests of one signed-in user or API key, wherever they come from.
    public var signedIn: RateLimiter.Limit?
    /// Anonymous reads that pages repeat on live events (a branch's snapshot, a ticket's status), per client address.
    public var publicReads: RateLimiter.Limit?
    /// CSV exports, per user or API key.
    public var exports: RateLimiter.Limit?

    public init(
        api: RateLimiter.Limit? = .init(1_000, per: .seconds(3_600)),
        signedIn: RateLimiter.Limit? = .init(20_000, per: .seconds(3_600)),
        publicReads: RateLimiter.Limit? = .init(100, per: .seconds(1)),
        exports: RateLimiter.Limit? = .init(100, per: .seconds(3_600))
    ) {
        self.api = api
        self.signedIn = signedIn
        self.publicReads = publicReads
        self.exports = exports
    }

    /// No limits at all (benchmarks and tests that hammer one address).
    public static let off = RateLimits(api: nil, signedIn: nil, publicReads: nil, exports: nil)
}

/// A setting that cannot be used; the message is shown to the person who started the server.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Configuration
import TurnoCore

/// The queues' own settings, read from the server's configuration: `TURNO_RATE_TICKETS`, the anonymous ticket
/// issue limit per client address (`10/minute` by default, `off` for none; kiosks with an API key are not limited).
struct QueueSettings: Sendable {
    var anonymousIssueLimit: RateLimiter.Limit?

    init(config: ConfigReader) throws(SettingsError) {
        anonymousIssueLimit = try RateLimiter.Limit(parsing: config.scoped(to: "turno").string(forKey: "rateTickets", default: "10/minute"))
    }
}

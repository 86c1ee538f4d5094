import ArgumentParser
import Foundation
import Sessions
import Synchronization
import TurnoCore

/// `turno loadgen …`: realistic traffic against a running server, to see how it holds up under it.
struct Loadgen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Send realistic simulated traffic to a running server and measure how it answers.",
        subcommands: [LoadgenQueues.self, LoadgenFleet.self, LoadgenSessions.self]
    )
}

/// Posts simulated exercise sessions of many users through the batch API at a steady rate, then reads every user's
/// statistics: the ingest rate, batch and statistics latencies, and each user's totals as CSV.
struct LoadgenSessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Post simulated sessions of many users at a set rate, then read each user's statistics.",
        discussion: """
            Users are user-0001, user-0002 …, each a runner, cyclist, swimmer or walker with a sport mix and fitness of \
            their own; sessions start within the last 90 days. Posting stops after --sessions or --duration-limit, \
            whichever comes first. Only --url is contacted. Exits with status 1 when a request or a session failed.
            """
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "An API key with sessions:read and sessions:write, instead of --username and --password.")
    var apiKey: String?
    @Option(help: "A staff user who may write sessions (admin or manager).")
    var username: String?
    @Option(help: "That user's password.")
    var password: String?
    @Option(help: "Simulated users.")
    var users: Int
    @Option(help: "Sessions to post in all.")
    var sessions: Int
    @Option(help: "Sessions per second; 0 posts as fast as the server takes them.")
    var rate: Double
    @Option(help: "Sessions per request (1–1,000).")
    var batch = 100
    @Option(help: "Seconds after which posting stops even if not every session was posted.")
    var durationLimit: Double = 600
    @Option(help: "Where to write each user's statistics as CSV.")
    var out: String

    /// Requests in flight at once, in both phases: fixed, so that runs at different rates are comparable.
    static let workers = 4

    func validate() throws {
        switch (apiKey, username, password) {
        case (.some, nil, nil), (nil, .some, .some): break
        default: throw ValidationError("sign in with either --api-key, or --username and --password")
        }
        guard users >= 1 else { throw ValidationError("--users must be at least 1") }
        guard sessions >= 1 else { throw ValidationError("--sessions must be at least 1") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 (unlimited) or more") }
        guard (1...1_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 1,000 (the server's limit)") }
        guard durationLimit > 0 else { throw ValidationError("--duration-limit must be more than 0 seconds") }
    }

    func run() async throws {
        var clean = true
        try await reportingFailures {
            let api = APIClient(base: url, bearer: apiKey)
            do {
                clean = try await measure(api)
            } catch {
                try await api.shutdown()
                throw error
            }
            try await api.shutdown()
        }
        if !clean { throw ExitCode.failure }
    }

    /// Both phases and their report; false when anything failed.
    func measure(_ api: APIClient) async throws -> Bool {
        if let username, let password { try await api.signIn(username: username, password: password) }
        let athletes = (1...users).map(Athlete.init(number:))
        let ingest = try await post(athletes, api: api)
        // Statistics of sessions that never arrived measure nothing; and the failure is most likely the credentials.
        if ingest.posted == 0, let failure = ingest.firstFailure { throw Failure("the server took no batch; the first answer: \(failure)") }
        let statistics = try await readStatistics(of: athletes, api: api)
        try write(statistics)

        let counted = statistics.reduce(0) { $0 + $1.totals.count }
        print(
            String(
                format: "posted %d sessions for %d users in %.2f s: %.0f sessions/s (created %d, already there %d, rejected %d)",
                ingest.posted,
                users,
                ingest.seconds,
                Double(ingest.posted) / ingest.seconds,
                ingest.created,
                ingest.existing,
                ingest.rejected
            )
        )
        print("batch latency (\(ingest.latencies.count) requests of up to \(batch) sessions): \(Summary(ingest.latencies))")
        print("stats latency (\(statistics.count) users, \(counted) sessions counted): \(Summary(statistics.map(\.latencyMs)))")
        print("statistics written to \(out)")
        if ingest.posted < sessions, ingest.failedRequests == 0 {
            print("stopped after --duration-limit \(durationLimit) s with \(ingest.posted) of \(sessions) sessions posted")
        }
        if let first = ingest.firstFailure { print("\(ingest.failedRequests) requests failed; the first: \(first)") }
        if let first = ingest.firstRejection { print("\(ingest.rejected) sessions were rejected; the first: \(first)") }
        return ingest.failedRequests == 0 && ingest.rejected == 0
    }

    /// What posting achieved.
    struct Ingest: Sendable {
        /// Sessions in requests the server answered.
        var posted = 0
        var created = 0
        var existing = 0
        var rejected = 0
        var firstRejection: String?
        var failedRequests = 0
        var firstFailure: String?
        var latencies: [Double] = []
        var seconds = 0.0

        /// The sum of two workers' parts.
        mutating func add(_ other: Ingest) {
            posted += other.posted
            created += other.created
            existing += other.existing
            rejected += other.rejected
            firstRejection = firstRejection ?? other.firstRejection
            failedRequests += other.failedRequests
            firstFailure = firstFailure ?? other.firstFailure
            latencies += other.latencies
        }
    }

    /// The batch request and the parts of its answer that are counted.
    struct BatchRequest: Encodable {
        var sessions: [SessionFields]
    }

    struct BatchAnswer: Decodable {
        struct Item: Decodable {
            struct Problem: Decodable { var detail: String? }
            var index: Int
            var problem: Problem?
        }

        var created: Int
        var existing: Int
        var failed: Int
        var results: [Item]
    }

    /// The workers take batches in turn until every session is posted or the time is up; a token bucket holding one
    /// batch keeps them together to `rate`.
    func post(_ athletes: [Athlete], api: APIClient) async throws -> Ingest {
        let (total, batch, athletes) = (sessions, self.batch, athletes)
        let batches = (total + batch - 1) / batch
        let nextBatch = WorkCounter()
        let attempted = WorkCounter()
        let bucket = rate > 0 ? TokenBucket(rate: rate, burst: Double(batch)) : nil
        let progress = ProgressLine(label: "loadgen", total: total)
        // External ids make the sessions recognisable (a retry would not add them twice) and unique to this run.
        let run = String(UInt32.random(in: .min ... .max), radix: 16)
        let start = ContinuousClock.now
        let deadline = start + .seconds(durationLimit)
        var result = await withTaskGroup(of: Ingest.self) { group in
            for _ in 0..<Self.workers {
                group.addTask {
                    let encoder = JSONCoding.encoder
                    let decoder = JSONCoding.decoder
                    var ingest = Ingest()
                    while true {
                        let index = nextBatch.take()
                        guard index < batches else { return ingest }
                        let count = min(batch, total - index * batch)
                        if let bucket {
                            let due = bucket.reserve(count)
                            guard due < deadline else { return ingest }
                            try? await Task.sleep(until: due, clock: .continuous)
                        }
                        guard ContinuousClock.now < deadline else { return ingest }
                        let nowMs = SystemClock().nowMilliseconds()
                        var random = SystemRandomNumberGenerator()
                        let request = BatchRequest(
                            sessions: (0..<count).map { offset in
                                Athlete.pick(from: athletes, using: &random)
                                    .session(externalID: "loadgen-\(run)-\(index * batch + offset)", nowMs: nowMs, using: &random)
                            }
                        )
                        let sent = ContinuousClock.now
                        do {
                            let data = try await api.send(.POST, "/api/v1/sessions/batch", json: try encoder.encode(request))
                            let latency = (ContinuousClock.now - sent) / .milliseconds(1)
                            let answer = try decoder.decode(BatchAnswer.self, from: data)
                            ingest.posted += count
                            ingest.created += answer.created
                            ingest.existing += answer.existing
                            ingest.rejected += answer.failed
                            ingest.latencies.append(latency)
                            if ingest.firstRejection == nil, let item = answer.results.first(where: { $0.problem != nil }) {
                                ingest.firstRejection = "\(item.problem?.detail ?? "no detail") in \(String(describing: request.sessions[item.index]))"
                            }
                        } catch {
                            ingest.failedRequests += 1
                            ingest.firstFailure = ingest.firstFailure ?? Failure.report(error).description
                        }
                        let done = attempted.take(count) + count
                        let seconds = (ContinuousClock.now - start) / .seconds(1)
                        progress.update(done, detail: String(format: "%d of %d sessions, %.0f/s", done, total, Double(done) / seconds))
                    }
                }
            }
            return await group.reduce(into: Ingest()) { $0.add($1) }
        }
        progress.finish()
        result.seconds = (ContinuousClock.now - start) / .seconds(1)
        return result
    }

    /// One user's statistics over the 90 days the sessions fall in, and how long the server took to answer.
    struct UserStatistics: Sendable {
        var userID: String
        var totals: Totals
        var streaks: Streaks
        var latencyMs: Double
    }

    /// The parts of `GET /api/v1/users/{user}/stats` the CSV shows.
    struct StatisticsAnswer: Decodable {
        var totals: Totals
        var streaks: Streaks
    }

    struct Streaks: Decodable {
        var currentDays: Int
        var longestDays: Int
    }

    func readStatistics(of athletes: [Athlete], api: APIClient) async throws -> [UserStatistics] {
        let day = Date.ISO8601FormatStyle().year().month().day()
        let now = Date()
        let query = "from=\(now.addingTimeInterval(-90 * 86_400).formatted(day))&to=\(now.formatted(day))&bucket=week"
        let ids = athletes.map(\.id)
        let next = WorkCounter()
        let finished = WorkCounter()
        let progress = ProgressLine(label: "stats", total: ids.count)
        return try await withThrowingTaskGroup(of: [UserStatistics].self) { group in
            for _ in 0..<Self.workers {
                group.addTask {
                    let decoder = JSONCoding.decoder
                    var read: [UserStatistics] = []
                    while true {
                        let index = next.take()
                        guard index < ids.count else { return read }
                        let sent = ContinuousClock.now
                        let data = try await api.send(.GET, "/api/v1/users/\(ids[index])/stats?\(query)")
                        let latency = (ContinuousClock.now - sent) / .milliseconds(1)
                        let answer = try decoder.decode(StatisticsAnswer.self, from: data)
                        read.append(UserStatistics(userID: ids[index], totals: answer.totals, streaks: answer.streaks, latencyMs: latency))
                        let done = finished.take() + 1
                        progress.update(done, detail: "\(done) of \(ids.count) users")
                    }
                }
            }
            var all: [UserStatistics] = []
            for try await part in group { all += part }
            progress.finish()
            return all.sorted { $0.userID < $1.userID }
        }
    }

    func write(_ statistics: [UserStatistics]) throws {
        func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value)
        }
        var csv = "user_id,count,duration_s,distance_m,calories_kcal,elevation_gain_m,current_streak_days,longest_streak_days,stats_latency_ms\n"
        for user in statistics {
            let t = user.totals
            csv += "\(user.userID),\(t.count),\(t.durationS),\(number(t.distanceM)),\(number(t.caloriesKcal)),\(number(t.elevationGainM)),"
            csv += "\(user.streaks.currentDays),\(user.streaks.longestDays),\(String(format: "%.2f", user.latencyMs))\n"
        }
        do {
            try csv.write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            throw Failure("cannot write \(out): \(error.localizedDescription)")
        }
    }
}

/// Hands out 0, 1, 2 … to concurrent workers, so that each piece of work is taken exactly once.
final class WorkCounter: Sendable {
    private let next = Atomic<Int>(0)

    /// The first of `count` consecutive numbers, which are now the caller's.
    func take(_ count: Int = 1) -> Int {
        next.add(count, ordering: .relaxed).oldValue
    }
}

/// Paces work to `rate` units a second with bursts of at most `burst` units. Each caller reserves its units and is
/// told when it may go; going into debt rather than polling keeps concurrent workers fair and exactly on the rate.
final class TokenBucket: Sendable {
    private struct State {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let state: Mutex<State>

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        state = Mutex(State(tokens: burst, updated: .now))
    }

    /// When `units` may be spent.
    func reserve(_ units: Int) -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.tokens = min(burst, state.tokens + rate * ((now - state.updated) / .seconds(1)))
            state.updated = now
            state.tokens -= Double(units)
            return state.tokens >= 0 ? now : now + .seconds(-state.tokens / rate)
        }
    }
}

/// A simulated user: the sports they do and how often, how fit they are, and how much they train. Derived from the
/// user's number alone, so that every run simulates the same people.
struct Athlete: Sendable {
    let id: String
    /// Sports and their shares of this user's sessions.
    let sports: [(sport: Sport, share: Double)]
    /// Multiplies the sport's typical speeds: 0.85 (slower) to 1.15 (faster).
    let fitness: Double
    /// Added to the sport's typical heart rate, in beats per minute.
    let heartRateShift: Double
    /// Relative number of sessions, 0.3 to 1: some train daily, others once a week.
    let activity: Double

    init(number: Int) {
        id = String(format: "user-%04d", number)
        // Spread evenly but without a visible pattern: fractional parts of multiples of irrational numbers.
        func spread(_ factor: Double) -> Double { (Double(number) * factor).truncatingRemainder(dividingBy: 1) }
        sports =
            switch number % 4 {
            case 1: [(.run, 0.7), (.ride, 0.1), (.strength, 0.1), (.walk, 0.1)]
            case 2: [(.ride, 0.7), (.run, 0.1), (.strength, 0.1), (.hike, 0.1)]
            case 3: [(.swim, 0.6), (.run, 0.15), (.yoga, 0.15), (.row, 0.1)]
            default: [(.walk, 0.4), (.hike, 0.4), (.yoga, 0.2)]
            }
        fitness = 0.85 + 0.3 * spread(0.618_033_988_7)
        heartRateShift = -8 + 16 * spread(0.414_213_562_4)
        activity = 0.3 + 0.7 * spread(0.732_050_807_6)
    }

    /// A user, the more active ones more often (rejection sampling: constant time however many users there are).
    static func pick(from athletes: [Athlete], using random: inout some RandomNumberGenerator) -> Athlete {
        while true {
            let athlete = athletes.randomElement(using: &random)!
            if Double.random(in: 0..<1, using: &random) < athlete.activity { return athlete }
        }
    }

    /// Typical figures of one sport.
    struct Effort {
        var minutes: ClosedRange<Double>
        /// Metres per second; nil for sports without a distance. Kept well under the server's plausibility limits.
        var speed: ClosedRange<Double>?
        /// Metres climbed per kilometre; nil for sports without elevation.
        var climbPerKm: ClosedRange<Double>?
        var heartRate: ClosedRange<Double>
        var kcalPerMinute: Double
    }

    static func effort(_ sport: Sport) -> Effort {
        switch sport {
        case .run: Effort(minutes: 20...95, speed: 2.6...4.0, climbPerKm: 0...15, heartRate: 138...172, kcalPerMinute: 11)
        case .ride: Effort(minutes: 30...200, speed: 6...9.5, climbPerKm: 2...14, heartRate: 120...160, kcalPerMinute: 9)
        case .swim: Effort(minutes: 20...70, speed: 0.55...1.1, heartRate: 115...155, kcalPerMinute: 9)
        case .walk: Effort(minutes: 20...90, speed: 1.1...1.6, heartRate: 100...125, kcalPerMinute: 4.5)
        case .hike: Effort(minutes: 60...360, speed: 0.8...1.4, climbPerKm: 25...90, heartRate: 110...145, kcalPerMinute: 7)
        case .row: Effort(minutes: 20...70, speed: 2.8...4.2, heartRate: 130...165, kcalPerMinute: 10)
        case .strength: Effort(minutes: 30...75, heartRate: 105...145, kcalPerMinute: 6)
        case .yoga: Effort(minutes: 30...90, heartRate: 100...120, kcalPerMinute: 3.5)
        case .other: Effort(minutes: 20...90, heartRate: 100...140, kcalPerMinute: 5)
        }
    }

    /// Notes people write; some need CSV quoting or the export's spreadsheet guard, so that an export round-trips them.
    static let notes = ["Easy", "Intervals, 6×800 m", "Legs felt \"heavy\"", "Long one", "+1 km warm-up", "=felt great", "Con gli amici"]

    /// One plausible session of this user that ended before `nowMs`, within the last 90 days.
    func session(externalID: String, nowMs: Int64, using random: inout some RandomNumberGenerator) -> SessionFields {
        var pick = Double.random(in: 0..<1, using: &random)
        let sport =
            sports.first {
                pick -= $0.share
                return pick < 0
            }?.sport ?? sports[0].sport
        let effort = Self.effort(sport)
        let seconds = Int(Double.random(in: effort.minutes, using: &random) * 60)
        let ninetyDays = 90 * 86_400
        let startedAtMs = nowMs - Int64(Int.random(in: (seconds + 60)...ninetyDays, using: &random)) * 1_000
        var fields = SessionFields(
            userID: id,
            sport: sport.rawValue,
            startedAt: Timestamp.format(milliseconds: startedAtMs),
            durationS: seconds,
            caloriesKcal: (Double(seconds) / 60 * effort.kcalPerMinute * Double.random(in: 0.85...1.15, using: &random)).rounded(),
            externalID: externalID
        )
        if let speed = effort.speed {
            let distance = (Double(seconds) * Double.random(in: speed, using: &random) * fitness).rounded()
            fields.distanceM = distance
            if let climb = effort.climbPerKm { fields.elevationGainM = (distance / 1_000 * Double.random(in: climb, using: &random)).rounded() }
        }
        // One session in ten is recorded without a heart-rate strap.
        if Int.random(in: 0..<10, using: &random) > 0 {
            let average = min(185, max(100, Double.random(in: effort.heartRate, using: &random) + heartRateShift))
            fields.avgHrBpm = Int(average)
            fields.maxHrBpm = Int(average) + Int.random(in: 8...25, using: &random)
        }
        if Int.random(in: 0..<12, using: &random) == 0 { fields.notes = Self.notes.randomElement(using: &random) }
        return fields
    }
}

import ArgumentParser
import Foundation
import Synchronization
import TurnoCore

/// A busy day at the counters, against a running server: customers take tickets at a steady rate, one operator per
/// queue calls the next customer and finishes after a service time, displays follow their branch and each customer
/// follows their own ticket page, all live. Reports throughput and latency per operation and how long pushes take.
struct LoadgenQueues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Drive queues the way a busy day does, and measure each operation and the live pushes.",
        discussion: """
            Signs in, then creates its own branches (two services each, every queue serving both), a kiosk key and \
            one operator per queue through the public API, as an administrator would. Displays connect first; then, \
            for --duration seconds, the kiosk issues tickets at --rate a second over all branches, each customer reads \
            their status once (anonymously) and (unless --no-ticket-pages) follows their page over WebSocket until \
            called; each operator, signed in as themselves, calls next and finishes after a random service time. With \
            --display-reads every display re-reads its branch's snapshot on each call it hears, as the display page \
            does. Push \
            latency is from the event's time on the server to its arrival here, so run on the server's machine. Only \
            --url is contacted. Exits with status 1 when a request failed.
            """
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String
    @Option(help: "An admin's username.")
    var username = "admin"
    @Option(help: "The admin's password.")
    var adminPassword: String
    @Option(help: "Branches to set up.")
    var branches = 1
    @Option(help: "Queues (counters) per branch.")
    var queues = 4
    @Option(help: "Tickets issued per second, over all branches.")
    var rate: Double = 10
    @Option(help: "Seconds to run.")
    var duration: Double = 30
    @Option(help: "Displays following their branch live (spread over the branches).")
    var subscribers = 100
    @Option(help: "Mean service time in seconds; by default, what keeps operators 80 % busy at --rate.")
    var serviceSeconds: Double?
    @Option(help: "Loopback source addresses to spread live connections over (127.0.0.2, 127.0.0.3 …); 1 lets the system choose.")
    var sourceAddresses = 1
    @Option(help: "Write the results as JSON to this file too.")
    var out: String?
    @ArgumentParser.Flag(inversion: .prefixedNo, help: "Follow every ticket's page over WebSocket until it is called.")
    var ticketPages = true
    @ArgumentParser.Flag(help: "Displays re-read their branch's snapshot on every call they hear, as the display page does.")
    var displayReads = false

    /// WebSocket handshakes in flight at once while the displays connect.
    static let handshakes = 200

    var server: (host: String, port: Int) {
        let components = URLComponents(string: url)
        return (components?.host ?? "127.0.0.1", components?.port ?? (components?.scheme == "https" ? 443 : 80))
    }

    func validate() throws {
        guard let components = URLComponents(string: url), components.scheme == "http", components.host != nil else {
            throw ValidationError("--url must be an http:// address, such as http://127.0.0.1:8080")
        }
        guard branches >= 1, queues >= 1 else { throw ValidationError("--branches and --queues must be at least 1") }
        guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be more than 0") }
        guard duration > 0, duration.isFinite, duration <= 86_400 else { throw ValidationError("--duration must be more than 0 seconds") }
        guard subscribers >= 0 else { throw ValidationError("--subscribers cannot be negative") }
        if let serviceSeconds, !(serviceSeconds > 0) { throw ValidationError("--service-seconds must be more than 0") }
        guard (1...250).contains(sourceAddresses) else { throw ValidationError("--source-addresses must be between 1 and 250") }
        if sourceAddresses > 1, !server.host.hasPrefix("127.") {
            throw ValidationError("--source-addresses needs a server on a 127.x.x.x address")
        }
    }

    func run() async throws {
        var clean = true
        try await reportingFailures {
            let api = APIClient(base: url)
            do {
                try await api.signIn(username: username, password: adminPassword)
                let (site, callers) = try await setUp(api)
                let results = await drive(site, callers: callers)
                for client in callers.all { try await client.shutdown() }
                print(results.table)
                if let out { try write(results, to: out) }
                clean = results.failedRequests == 0
            } catch {
                try await api.shutdown()
                throw error
            }
            try await api.shutdown()
        }
        if !clean { throw ExitCode.failure }
    }

    /// The branches this run made, by id, with their public id, and the clients that act in them.
    struct Branch: Sendable {
        var id: Int
        var publicID: String
        var services: [Int]
        var queues: [Int]
    }

    /// Who calls the server during the day: the kiosk (an API key), each counter's operator (signed in as
    /// themselves), and customers and displays (anonymous).
    struct Callers: Sendable {
        var kiosk: APIClient
        var operators: [Int: APIClient]
        var anonymous: APIClient

        var all: [APIClient] { [kiosk, anonymous] + Array(operators.values) }
    }

    func setUp(_ api: APIClient) async throws -> (site: [Branch], callers: Callers) {
        let run = UUID().uuidString.prefix(8)
        var made: [Branch] = []
        var operators: [Int: APIClient] = [:]
        for number in 1...branches {
            let branch = try await api.post("/api/v1/branches", ["name": "Loadgen \(run) \(number)"])
            let id = branch["id"] as! Int
            var services: [Int] = []
            for (name, prefix) in [("General", "A"), ("Parcels", "P")] {
                services.append(try await api.post("/api/v1/branches/\(id)/services", ["name": name, "prefix": prefix])["id"] as! Int)
            }
            var queueIDs: [Int] = []
            for counter in 1...queues {
                let body: [String: Any] = ["name": "Desk \(counter)", "counter": "\(counter)", "services": services]
                let queue = try await api.post("/api/v1/branches/\(id)/queues", body)["id"] as! Int
                queueIDs.append(queue)
                let username = "loadgen-\(run)-\(number)-\(counter)"
                let password = UUID().uuidString
                let user = try await api.post("/api/v1/users", ["username": username, "password": password, "role": "operator", "branch_ids": [id]])
                _ = try await api.send(.PATCH, "/api/v1/queues/\(queue)", json: try JSONSerialization.data(withJSONObject: ["operators": [user["id"] as! Int]]))
                let client = APIClient(base: url)
                try await client.signIn(username: username, password: password)
                operators[queue] = client
            }
            made.append(Branch(id: id, publicID: branch["public_id"] as! String, services: services, queues: queueIDs))
        }
        let key = try await api.post("/api/v1/api-keys", ["name": "Loadgen kiosk \(run)", "scopes": ["tickets:issue"]])["key"] as! String
        return (made, Callers(kiosk: APIClient(base: url, bearer: key), operators: operators, anonymous: APIClient(base: url)))
    }

    func drive(_ site: [Branch], callers: Callers) async -> Results {
        let recorder = Recorder()
        let (host, port) = server
        let sources = sourceAddresses
        let connection = WorkCounter()
        @Sendable func target(_ path: String) -> LiveFollower.Target {
            let source = sources > 1 ? "127.0.0.\(2 + connection.take() % sources)" : nil
            return LiveFollower.Target(host: host, port: port, path: path, source: source)
        }
        let progress = ProgressLine(label: "loadgen", total: Int(duration.rounded(.up)))
        return await withTaskGroup(of: Void.self) { displays in
            for index in 0..<subscribers {
                while recorder.connecting >= Self.handshakes { try? await Task.sleep(for: .milliseconds(5)) }
                recorder.connectionStarted()
                let branch = site[index % site.count].publicID
                let rereads = displayReads
                displays.addTask {
                    await recorder.follow(target("/live/ws?topics=branch:\(branch)"), as: .display) {
                        guard rereads else { return }
                        Task { _ = await recorder.time(.snapshotRead) { try await callers.anonymous.send(.GET, "/api/v1/branches/\(branch)/snapshot") } }
                    }
                }
            }
            // Handshakes time out after 10 s each; a minute bounds the wait whatever happens.
            let connected = ContinuousClock.now + .seconds(60)
            while recorder.connecting > 0, ContinuousClock.now < connected { try? await Task.sleep(for: .milliseconds(20)) }
            if subscribers > 0 { progress.note("\(recorder.live.open) displays connected, \(recorder.live.failed) failed") }

            let start = ContinuousClock.now
            let deadline = start + .seconds(duration)
            await withTaskGroup(of: Void.self) { day in
                let meanService = serviceSeconds ?? 0.8 * Double(site.count * queues) / rate
                for queue in site.flatMap(\.queues) {
                    let api = callers.operators[queue]!
                    day.addTask { await operate(queue: queue, meanService: meanService, until: deadline, api: api, recorder: recorder) }
                }
                day.addTask { await issueTickets(site, from: start, until: deadline, callers: callers, recorder: recorder, target: target) }
                day.addTask {
                    while ContinuousClock.now < deadline {
                        try? await Task.sleep(for: .seconds(1))
                        let elapsed = (ContinuousClock.now - start) / .seconds(1)
                        let counts = recorder.counts
                        progress.update(Int(elapsed), detail: "issued \(counts.issued), called \(counts.called), \(recorder.live.open) live")
                    }
                }
            }
            progress.finish()
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            // Pushes of the last calls are still on their way: wait until they stop arriving (5 s at most).
            for _ in 0..<10 {
                let received = recorder.pushesReceived
                try? await Task.sleep(for: .milliseconds(500))
                if recorder.pushesReceived == received { break }
            }
            displays.cancelAll()
            return recorder.results(seconds: seconds, settings: self)
        }
    }

    /// One operator at one counter, until the day ends: call next, serve, finish; when nobody waits, look again a
    /// second later (a person at a console, not a loop).
    func operate(queue: Int, meanService: Double, until deadline: ContinuousClock.Instant, api: APIClient, recorder: Recorder) async {
        while ContinuousClock.now < deadline {
            guard let answer = await recorder.time(.callNext, { try await api.send(.POST, "/api/v1/queues/\(queue)/call-next") }) else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard !answer.isEmpty, let called = try? JSONSerialization.jsonObject(with: answer) as? [String: Any], let ticket = called["id"] as? Int else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            recorder.ticketCalled()
            // Exponential service times: most are short, a few take long, as at a real counter.
            let service = -meanService * log(Double.random(in: Double.ulpOfOne..<1))
            try? await Task.sleep(for: .seconds(min(service, 10 * meanService)))
            _ = await recorder.time(.finish) { try await api.send(.POST, "/api/v1/tickets/\(ticket)/finish") }
        }
    }

    /// Customers arrive on a fixed schedule (open loop, so a slow server shows as latency, not as fewer customers);
    /// each takes a ticket, reads its status once, and follows its page until called.
    func issueTickets(
        _ site: [Branch],
        from start: ContinuousClock.Instant,
        until deadline: ContinuousClock.Instant,
        callers: Callers,
        recorder: Recorder,
        target: @escaping @Sendable (String) -> LiveFollower.Target
    ) async {
        let ticketPages = self.ticketPages
        let pages = TicketPages()
        await withTaskGroup(of: Void.self) { customers in
            for arrival in 0... {
                let due = start + .seconds(Double(arrival) / rate)
                guard due < deadline else { break }
                try? await Task.sleep(until: due, clock: .continuous)
                let branch = site[arrival % site.count]
                let service = branch.services[arrival % branch.services.count]
                customers.addTask {
                    let issued = await recorder.time(.issue) {
                        try await callers.kiosk.send(.POST, "/api/v1/branches/\(branch.publicID)/tickets", json: Data(#"{"service":\#(service)}"#.utf8))
                    }
                    guard let issued, let ticket = try? JSONSerialization.jsonObject(with: issued) as? [String: Any],
                        let token = ticket["token"] as? String
                    else { return }
                    recorder.ticketIssued()
                    _ = await recorder.time(.statusRead) { try await callers.anonymous.send(.GET, "/api/v1/tickets/\(token)") }
                    if ticketPages {
                        await pages.follow {
                            recorder.connectionStarted()
                            await recorder.follow(target("/live/ws?topics=ticket:\(token)"), as: .ticketPage)
                        }
                    }
                }
            }
            // Customers still waiting when the day ends close their pages; requests still on their way finish.
            try? await Task.sleep(for: .seconds(1))
            pages.closeAll()
        }
    }

    /// The open ticket pages, so that the end of the day closes them without cutting short requests in flight.
    final class TicketPages: Sendable {
        private let state = Mutex<(closed: Bool, pages: [UUID: Task<Void, Never>])>((false, [:]))

        /// Runs `page` until it ends or the day does; nothing once the day has ended.
        func follow(_ page: @escaping @Sendable () async -> Void) async {
            let id = UUID()
            let task: Task<Void, Never>? = state.withLock { state in
                guard !state.closed else { return nil }
                let task = Task { await page() }
                state.pages[id] = task
                return task
            }
            await task?.value
            _ = state.withLock { $0.pages.removeValue(forKey: id) }
        }

        func closeAll() {
            state.withLock { state in
                state.closed = true
                for page in state.pages.values { page.cancel() }
            }
        }
    }

    func write(_ results: Results, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(results).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Failure("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// What a run measured, as printed and as written with `--out`.
    struct Results: Encodable {
        struct Settings: Encodable {
            var url: String
            var branches: Int
            var queuesPerBranch: Int
            var rate: Double
            var durationS: Double
            var subscribers: Int
            var ticketPages: Bool
            var meanServiceS: Double
        }

        struct Operation: Encodable {
            var name: String
            var requests: Int
            var perSecond: Double
            var p50Ms: Double?
            var p95Ms: Double?
            var p99Ms: Double?
            var maxMs: Double?
            var errors: Int
        }

        struct Push: Encodable {
            var name: String
            var messages: Int
            var p50Ms: Double?
            var p99Ms: Double?
            var maxMs: Double?
        }

        struct Live: Encodable {
            var peakOpen: Int
            var failed: Int
        }

        var settings: Settings
        var seconds: Double
        var operations: [Operation]
        var push: [Push]
        var live: Live
        var failedRequests: Int
        var firstError: String?

        var table: String {
            func ms(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
            func row(_ cells: [String]) -> String {
                cells.enumerated().map {
                    $0.offset == 0
                        ? $0.element.padding(toLength: 30, withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: max(0, 10 - $0.element.count)) + $0.element
                }.joined()
            }
            var lines = [
                String(
                    format: "%d branch(es) × %d queues, %.1f tickets/s for %.0f s, %d displays, ticket pages %@, mean service %.2f s",
                    settings.branches,
                    settings.queuesPerBranch,
                    settings.rate,
                    seconds,
                    settings.subscribers,
                    settings.ticketPages ? "followed" : "not followed",
                    settings.meanServiceS
                ),
                row(["operation", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"]),
            ]
            for operation in operations {
                lines.append(
                    row([
                        operation.name, "\(operation.requests)", String(format: "%.1f", operation.perSecond), ms(operation.p50Ms),
                        ms(operation.p95Ms), ms(operation.p99Ms), ms(operation.maxMs), "\(operation.errors)",
                    ])
                )
            }
            lines.append(row(["push (event time → here)", "messages", "", "p50 ms", "", "p99 ms", "max ms", ""]))
            for push in push {
                lines.append(row([push.name, "\(push.messages)", "", ms(push.p50Ms), "", ms(push.p99Ms), ms(push.maxMs), ""]))
            }
            lines.append("live connections: at most \(live.peakOpen) open at once, \(live.failed) failed")
            if let firstError { lines.append("first error: \(firstError)") }
            return lines.joined(separator: "\n")
        }
    }

    /// Everything the concurrent customers, operators and followers measure, in one place.
    final class Recorder: Sendable {
        enum Operation: String, CaseIterable, Sendable {
            case issue
            case callNext = "call-next"
            case finish
            case statusRead = "status read"
            case snapshotRead = "display snapshot read"
        }

        enum Follower: String, CaseIterable, Sendable {
            case display = "display: ticket.called"
            case ticketPage = "ticket page: ticket.called"
        }

        private struct State {
            var latencies: [Operation: [Double]] = [:]
            var errors: [Operation: Int] = [:]
            var firstError: String?
            var pushes: [Follower: [Double]] = [:]
            var issued = 0
            var called = 0
            var connecting = 0
            var open = 0
            var peakOpen = 0
            var failedConnections = 0
        }

        private let state = Mutex(State())

        /// Runs one request and records how long it took; nil when it failed (the failure is counted).
        func time(_ operation: Operation, _ request: () async throws -> Data) async -> Data? {
            let start = ContinuousClock.now
            do {
                let answer = try await request()
                let elapsed = (ContinuousClock.now - start) / .milliseconds(1)
                state.withLock { $0.latencies[operation, default: []].append(elapsed) }
                return answer
            } catch {
                // Requests cut short because the run ended are not the server's failures.
                guard !Task.isCancelled else { return nil }
                state.withLock { state in
                    state.errors[operation, default: 0] += 1
                    state.firstError = state.firstError ?? "\(operation.rawValue): \(Failure.report(error).description)"
                }
                return nil
            }
        }

        func ticketIssued() { state.withLock { $0.issued += 1 } }
        func ticketCalled() { state.withLock { $0.called += 1 } }
        func connectionStarted() { state.withLock { $0.connecting += 1 } }

        var counts: (issued: Int, called: Int) { state.withLock { ($0.issued, $0.called) } }
        var connecting: Int { state.withLock { $0.connecting } }
        var pushesReceived: Int { state.withLock { $0.pushes.values.reduce(0) { $0 + $1.count } } }
        var live: (open: Int, failed: Int) { state.withLock { ($0.open, $0.failedConnections) } }

        /// Follows a live topic until cancelled; a ticket page stops once its ticket is called. Records the push
        /// latency of every `ticket.called`.
        func follow(_ target: LiveFollower.Target, as follower: Follower, onCall: @escaping @Sendable () -> Void = {}) async {
            let opened = Mutex(false)
            do {
                try await LiveFollower.follow(
                    target,
                    opened: {
                        opened.withLock { $0 = true }
                        self.state.withLock { state in
                            state.connecting -= 1
                            state.open += 1
                            state.peakOpen = max(state.peakOpen, state.open)
                        }
                    },
                    received: { message, arrival in
                        guard message.contains(#""type":"ticket.called""#), let sent = LiveFollower.eventTime(in: message) else { return true }
                        state.withLock { $0.pushes[follower, default: []].append((arrival - sent) * 1_000) }
                        onCall()
                        return follower == .display
                    }
                )
            } catch {
                if !opened.withLock({ $0 }), !Task.isCancelled { state.withLock { $0.failedConnections += 1 } }
            }
            let wasOpen = opened.withLock { $0 }
            state.withLock { state in
                if wasOpen { state.open -= 1 } else { state.connecting -= 1 }
            }
        }

        func results(seconds: Double, settings command: LoadgenQueues) -> Results {
            state.withLock { state in
                let settings = Results.Settings(
                    url: command.url,
                    branches: command.branches,
                    queuesPerBranch: command.queues,
                    rate: command.rate,
                    durationS: command.duration,
                    subscribers: command.subscribers,
                    ticketPages: command.ticketPages,
                    meanServiceS: command.serviceSeconds ?? 0.8 * Double(command.branches * command.queues) / command.rate
                )
                let operations = Operation.allCases.map { operation in
                    let summary = Summary(state.latencies[operation] ?? [])
                    let requests = summary.sorted.count + (state.errors[operation] ?? 0)
                    return Results.Operation(
                        name: operation.rawValue,
                        requests: requests,
                        perSecond: Double(summary.sorted.count) / seconds,
                        p50Ms: summary.value(0.5),
                        p95Ms: summary.value(0.95),
                        p99Ms: summary.value(0.99),
                        maxMs: summary.sorted.last,
                        errors: state.errors[operation] ?? 0
                    )
                }
                let pushes = Follower.allCases.map { follower in
                    let summary = Summary(state.pushes[follower] ?? [])
                    return Results.Push(
                        name: follower.rawValue,
                        messages: summary.sorted.count,
                        p50Ms: summary.value(0.5),
                        p99Ms: summary.value(0.99),
                        maxMs: summary.sorted.last
                    )
                }
                return Results(
                    settings: settings,
                    seconds: seconds,
                    operations: operations,
                    push: pushes,
                    live: Results.Live(peakOpen: state.peakOpen, failed: state.failedConnections),
                    failedRequests: state.errors.values.reduce(0, +),
                    firstError: state.firstError
                )
            }
        }
    }
}

extension Summary {
    /// The percentile, or nil without samples (JSON has no NaN).
    func value(_ p: Double) -> Double? {
        Percentile.nearestRank(p, of: sorted)
    }
}

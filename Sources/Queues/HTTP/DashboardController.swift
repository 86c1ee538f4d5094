import Foundation
import Hummingbird
import SQLKit
import TurnoCore

/// `GET /api/v1/branches/{branch}/dashboard`: the live load of a branch for managers — per counter what it is doing
/// and how it has done today, per service the queueing-theory view (Erlang C) of the last hour's arrivals, and the
/// staff planned now against those signed in.
struct DashboardController: Sendable {
    let store: QueueStore
    /// The time of day, from the server's clock.
    let clock: any ServerClock
    /// Who is signed in.
    let identity: Identity

    struct QueueLoad: Codable, Sendable {
        var id: QueueID
        var name: String
        var counter: String
        var state: QueueState
        var nowServing: String?
        var waiting: Int
        var longestWaitS: Int
        var servedToday: Int
        var averageWaitS: Int
        var averageServiceS: Int?
        /// Waiting tickets relative to the busiest counter of the branch, 0 to 1, for the load bar.
        var load: Double
    }

    struct ServiceLoad: Codable, Sendable {
        var id: ServiceID
        var name: String
        var waiting: Int
        var arrivalsLastHour: Int
        var openCounters: Int
        /// Erlang C: the chance a new customer has to wait, and for how long on average; nil when the counters
        /// cannot keep up with the arrivals.
        var probabilityOfWaiting: Double?
        var expectedWaitS: Int?
        var targetWaitS: Int
    }

    /// A staff member on a shift now, or signed in and working a counter without one.
    struct OnDuty: Codable, Sendable {
        var userId: StaffID
        var username: String?
        /// The counter of their shift (planned) or the one they opened (not planned).
        var counter: String?
        var planned: Bool
        var shiftEndsAt: Date?
        /// Signed in now (a page session or a sign-in that has not ended).
        var signedIn: Bool
    }

    struct Dashboard: Codable, Sendable, ResponseEncodable {
        init(branchId: BranchID, queues: [QueueLoad], services: [ServiceLoad], staff: [OnDuty]) {
            (self.branchId, self.queues, self.services, self.staffNow) = (branchId, queues, services, staff)
            plannedNow = staff.filter(\.planned).count
            signedInNow = staff.filter(\.signedIn).count
        }

        var branchId: BranchID
        var queues: [QueueLoad]
        var services: [ServiceLoad]
        /// Planned now against signed in: everyone on a shift now, then those who opened a counter without one.
        var staffNow: [OnDuty]
        var plannedNow: Int
        var signedInNow: Int
    }

    func add(to router: Router<TurnoRequestContext>) {
        router.group("/api/v1").add(middleware: RequireAccess(.dashboard)).get("/branches/:branch/dashboard", use: dashboard)
    }

    @Sendable func dashboard(_ request: Request, context: TurnoRequestContext) async throws -> Dashboard {
        guard let branchID = context.parameters.get("branch", as: Int64.self), let branch = try await store.branch(branchID) else {
            throw Problem.notFound("there is no such branch")
        }
        try QueueAccess.check(context.requirePrincipal(), branch: branch)
        let state = try await store.state(of: branchID, organizationID: branch.organizationID)
        let now = clock.nowMilliseconds()
        let midnight = try Self.localMidnight(now, timeZone: branch.timeZone)
        let today = try await store.servedToday(branchID: branchID, sinceMs: midnight)
        let arrivals = try await store.arrivalsPerService(branchID: branchID, sinceMs: now - 3_600_000)
        return Dashboard(
            branchId: branchID,
            queues: queueLoads(state, today: today, now: now),
            services: serviceLoads(state, arrivals: arrivals),
            staff: try await staffNow(branch, state: state, now: now)
        )
    }

    private func staffNow(_ branch: Branch, state: BranchState, now: Int64) async throws -> [OnDuty] {
        let today = LocalDate(ofMilliseconds: now, timeZone: branch.timeZone)
        let shifts = try await store.roster(of: branch.id).shifts(from: today, through: today, hours: branch.openingHours, timeZone: branch.timeZone)
            .filter { $0.covers(now) }
        let openers = try await store.openers(of: branch.id)
        let unplanned = openers.filter { opener in !shifts.contains { $0.userID == opener.value } }
        let signedIn = try await identity.signedIn(among: Set(shifts.map(\.userID) + unplanned.values))
        let directory = identity.directory
        let planned = shifts.map { shift in
            OnDuty(
                userId: shift.userID,
                username: directory.user(id: shift.userID)?.username,
                counter: state.queues[shift.queueID]?.counter,
                planned: true,
                shiftEndsAt: Date(milliseconds: shift.endMs),
                signedIn: signedIn.contains(shift.userID)
            )
        }
        let others = unplanned.sorted { $0.key < $1.key }.map { queueID, userID in
            OnDuty(
                userId: userID,
                username: directory.user(id: userID)?.username,
                counter: state.queues[queueID]?.counter,
                planned: false,
                shiftEndsAt: nil,
                signedIn: signedIn.contains(userID)
            )
        }
        return planned + others
    }

    private func queueLoads(_ state: BranchState, today: [QueueID: (served: Int, averageWaitSeconds: Double)], now: Int64) -> [QueueLoad] {
        let lines = state.queues.keys.reduce(into: [QueueID: [Ticket]]()) { $0[$1] = state.line(of: $1) }
        let busiest = max(1, lines.values.map(\.count).max() ?? 1)
        return state.queues.values.sorted { Routing.counterPrecedes($0, $1) }.map { queue in
            let line = lines[queue.id] ?? []
            return QueueLoad(
                id: queue.id,
                name: queue.name,
                counter: queue.counter,
                state: queue.state,
                nowServing: state.current(at: queue.id)?.number.description,
                waiting: line.count,
                longestWaitS: Int((now - (line.map(\.issuedAtMs).min() ?? now)) / 1000),
                servedToday: today[queue.id]?.served ?? 0,
                averageWaitS: Int(today[queue.id]?.averageWaitSeconds ?? 0),
                averageServiceS: queue.averageServiceSeconds.map { Int($0.rounded()) },
                load: Double(line.count) / Double(busiest)
            )
        }
    }

    private func serviceLoads(_ state: BranchState, arrivals: [ServiceID: Int]) -> [ServiceLoad] {
        state.services.values.sorted { $0.id < $1.id }.map { service in
            let counters = state.queues.values.filter { $0.acceptsTickets(for: service.id) }
            let averages = counters.compactMap(\.averageServiceSeconds)
            let serviceSeconds = averages.isEmpty ? Double(service.defaultServiceSeconds) : averages.reduce(0, +) / Double(averages.count)
            let arrived = arrivals[service.id] ?? 0
            let erlang = WaitEstimate.erlangC(arrivalsPerSecond: Double(arrived) / 3_600, serviceSeconds: serviceSeconds, servers: counters.count)
            return ServiceLoad(
                id: service.id,
                name: service.name,
                waiting: state.waitingCount(of: service.id),
                arrivalsLastHour: arrived,
                openCounters: counters.count,
                probabilityOfWaiting: erlang?.probabilityOfWaiting,
                expectedWaitS: erlang.map { Int($0.expectedWaitSeconds.rounded()) },
                targetWaitS: service.targetWaitSeconds
            )
        }
    }

    static func localMidnight(_ milliseconds: Int64, timeZone: String) throws -> Int64 {
        let start = LocalClock.calendar(timeZone).startOfDay(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return Int64(start.timeIntervalSince1970 * 1000)
    }
}

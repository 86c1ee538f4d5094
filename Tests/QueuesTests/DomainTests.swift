import Foundation
import Testing

@testable import Queues

@Suite("Queue domain: routing, order, transitions, estimates")
struct DomainTests {
    @Test("a new ticket goes to the least-loaded open queue serving its service; ties by least recent assignment, then counter")
    func leastLoaded() {
        var queues = [
            Fixture.queue(1, counter: "10", services: [1]),
            Fixture.queue(2, counter: "2", services: [1]),
            Fixture.queue(3, counter: "1", services: [2]),
            Fixture.queue(4, counter: "0", services: [1], state: .paused),
            Fixture.queue(5, counter: "00", services: [1], state: .closed),
        ]
        #expect(Routing.leastLoadedQueue(for: 1, in: queues, waiting: [1: 3, 2: 1])?.id == 2)
        #expect(Routing.leastLoadedQueue(for: 1, in: queues, waiting: [1: 0, 2: 1])?.id == 1)
        // Equal load, neither ever assigned: lowest counter, compared as numbers ("2" before "10").
        #expect(Routing.leastLoadedQueue(for: 1, in: queues, waiting: [:])?.id == 2)
        // Equal load: the one that received a ticket least recently (never counts as longest ago).
        queues[1].lastAssignedAtMs = 5_000
        #expect(Routing.leastLoadedQueue(for: 1, in: queues, waiting: [:])?.id == 1)
        queues[0].lastAssignedAtMs = 9_000
        #expect(Routing.leastLoadedQueue(for: 1, in: queues, waiting: [:])?.id == 2)
        #expect(Routing.leastLoadedQueue(for: 3, in: queues, waiting: [:]) == nil)
    }

    @Test("call order: weight × class, ageing, then issue time")
    func order() {
        let services: [ServiceID: Service] = [1: Fixture.service(1, "A", weight: 0), 2: Fixture.service(2, "B", weight: 4)]
        let early = Fixture.ticket(1, service: 1, issuedAtMs: 0)
        let urgent = Fixture.ticket(2, service: 2, issuedAtMs: 60_000)
        let vip = Fixture.ticket(3, service: 1, issuedAtMs: 60_000, class: .vip)
        let late = Fixture.ticket(4, service: 1, issuedAtMs: 120_000)
        // Priorities at 3 minutes: early 1 + 1.5 = 2.5, urgent 5 + 1 = 6, vip 3 + 1 = 4, late 1 + 0.5 = 1.5.
        #expect(CallOrder.sorted([late, vip, early, urgent], services: services, policy: .standard).map(\.id) == [2, 3, 1, 4])
        // Ageing adds the same per minute to every waiting ticket, so the order fixed at issue is the order of the
        // effective priorities at any later moment.
        for now: Int64 in [120_000, 180_000, 3_780_000, 86_400_000] {
            let byPriority = [late, vip, early, urgent].sorted {
                CallOrder.effectivePriority(of: $0, weight: services[$0.serviceID]!.priorityWeight, policy: .standard, nowMs: now)
                    > CallOrder.effectivePriority(of: $1, weight: services[$1.serviceID]!.priorityWeight, policy: .standard, nowMs: now)
            }
            #expect(byPriority.map(\.id) == [2, 3, 1, 4])
        }
        // Same priority: the earlier issue time first, then the lower id.
        let twin = Fixture.ticket(5, service: 1, issuedAtMs: 0)
        #expect(CallOrder.sorted([twin, early], services: services, policy: .standard).map(\.id) == [1, 5])
    }

    @Test("ageing bounds overtaking: a ticket issued more than the window later is never called first (property)")
    func ageingBoundsOvertaking() {
        var random = SeededRandom(seed: 42)
        let services = (1...4).map { Fixture.service(Int64($0), "S\($0)", weight: Int.random(in: 0...10, using: &random)) }
        let byID = Dictionary(uniqueKeysWithValues: services.map { ($0.id, $0) })
        let policy = QueuePolicy.standard
        let window = CallOrder.overtakingWindowMinutes(services: services, policy: policy)
        #expect(window.isFinite && window > 0)
        for _ in 0..<2_000 {
            let earlier = Fixture.ticket(
                1,
                service: services.randomElement(using: &random)!.id,
                issuedAtMs: Int64.random(in: 0...3_600_000, using: &random),
                class: CustomerClass.allCases.randomElement(using: &random)!
            )
            let gapMs = Int64((window * 60_000).rounded(.up)) + Int64.random(in: 1...600_000, using: &random)
            let later = Fixture.ticket(
                2,
                service: services.randomElement(using: &random)!.id,
                issuedAtMs: earlier.issuedAtMs + gapMs,
                class: CustomerClass.allCases.randomElement(using: &random)!
            )
            #expect(CallOrder.sorted([later, earlier], services: byID, policy: policy).first?.id == 1)
        }
    }

    @Test("state changes that do not apply are refused")
    func illegalTransitions() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A")],
            queues: [Fixture.queue(1, counter: "1", services: [1])],
            tickets: []
        )
        _ = try state.issue(Fixture.ticket(1, service: 1, issuedAtMs: 0), nowMs: 0)
        #expect(throws: QueueRuleViolation.invalidTransition(ticket: "A001", state: .waiting, action: "finished")) { try state.finish(1, nowMs: 1) }
        #expect(throws: QueueRuleViolation.self) { try state.start(1, nowMs: 1) }
        #expect(throws: QueueRuleViolation.self) { try state.recall(1, nowMs: 1) }
        #expect(throws: QueueRuleViolation.self) { try state.noShow(1, nowMs: 1) }
        _ = try state.callNext(at: 1, nowMs: 2)
        _ = try state.start(1, nowMs: 3_000)
        #expect(throws: QueueRuleViolation.self) { try state.cancel(1, nowMs: 4) }
        _ = try state.finish(1, nowMs: 63_000)
        #expect(throws: QueueRuleViolation.unknownTicket(1)) { try state.finish(1, nowMs: 5) }
        #expect(state.queues[1]?.averageServiceSeconds == 60)
        #expect(throws: QueueRuleViolation.unknownService(9)) { try state.issue(Fixture.ticket(2, service: 9, issuedAtMs: 0), nowMs: 0) }
    }

    @Test("issue is refused when the branch is closed or no open queue serves the service")
    func issueRefusals() throws {
        var closedBranch = BranchState(
            branch: Fixture.branch(.dedicated, open: false),
            services: [Fixture.service(1, "A")],
            queues: [Fixture.queue(1, counter: "1", services: [1])],
            tickets: []
        )
        #expect(throws: QueueRuleViolation.branchClosed) { try closedBranch.issue(Fixture.ticket(1, service: 1, issuedAtMs: 0), nowMs: 0) }
        for mode in RoutingMode.allCases {
            var state = BranchState(
                branch: Fixture.branch(mode),
                services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
                queues: [Fixture.queue(1, counter: "1", services: [1]), Fixture.queue(2, counter: "2", services: [2], state: .paused)],
                tickets: []
            )
            #expect(throws: QueueRuleViolation.noOpenQueue(service: "Service B")) { try state.issue(Fixture.ticket(1, service: 2, issuedAtMs: 0), nowMs: 0) }
        }
    }

    @Test("recalls count, and after the policy's limit the ticket is a no-show")
    func recallsAndNoShow() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A")],
            queues: [Fixture.queue(1, counter: "1", services: [1])],
            tickets: []
        )
        _ = try state.issue(Fixture.ticket(1, service: 1, issuedAtMs: 0), nowMs: 0)
        _ = try state.callNext(at: 1, nowMs: 1)
        for recall in 1...3 {
            let events = try state.recall(1, nowMs: Int64(recall))
            #expect(events.map(\.type) == ["ticket.recalled"])
            #expect(events.first?.ticket?.recallCount == recall)
        }
        let fourth = try state.recall(1, nowMs: 10)
        #expect(fourth.map(\.type) == ["ticket.no_show"])
        #expect(state.tickets[1] == nil)
    }

    @Test("a no-show can go back to waiting with its place, by policy")
    func noShowBackToQueue() throws {
        var policy = QueuePolicy.standard
        policy.noShowReturnsToQueue = true
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A")],
            queues: [Fixture.queue(1, counter: "1", services: [1])],
            tickets: [],
            policy: policy
        )
        _ = try state.issue(Fixture.ticket(1, service: 1, issuedAtMs: 0), nowMs: 0)
        _ = try state.issue(Fixture.ticket(2, service: 1, issuedAtMs: 5), nowMs: 5)
        _ = try state.callNext(at: 1, nowMs: 10)
        _ = try state.noShow(1, nowMs: 20)
        #expect(state.tickets[1]?.state == .waiting)
        #expect(state.line(of: 1).map(\.id) == [1, 2])
    }

    @Test("a transfer keeps the issue time, so the customer keeps their place in the new line")
    func transferKeepsPlace() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
            queues: [Fixture.queue(1, counter: "1", services: [1]), Fixture.queue(2, counter: "2", services: [2])],
            tickets: []
        )
        _ = try state.issue(Fixture.ticket(1, service: 1, issuedAtMs: 0), nowMs: 0)
        for id in 2...4 { _ = try state.issue(Fixture.ticket(TicketID(id), service: 2, issuedAtMs: Int64(id) * 1_000), nowMs: Int64(id) * 1_000) }
        _ = try state.callNext(at: 1, nowMs: 10_000)
        let events = try state.transfer(1, to: .service(2), nowMs: 11_000)
        #expect(events.map(\.type) == ["ticket.transferred"])
        #expect(state.tickets[1]?.issuedAtMs == 0)
        #expect(state.line(of: 2).map(\.id) == [1, 2, 3, 4])
    }

    @Test("a transfer to a counter or a colleague lands in that counter's line, in either routing mode", arguments: RoutingMode.allCases)
    func transferToCounterOrColleague(mode: RoutingMode) throws {
        var two = Fixture.queue(2, counter: "2", services: [1, 2])
        two.operatorIDs = [7]
        var state = BranchState(
            branch: Fixture.branch(mode),
            services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
            queues: [Fixture.queue(1, counter: "1", services: [1]), two, Fixture.queue(3, counter: "3", services: [2], state: .closed)],
            tickets: []
        )
        for id in 1...3 { _ = try state.issue(Fixture.ticket(TicketID(id), service: 1, issuedAtMs: Int64(id) * 1_000), nowMs: Int64(id) * 1_000) }
        _ = try state.callNext(at: 1, nowMs: 5_000)
        // Ticket 1, called at counter 1, goes to counter 2 by name and stands first there: it keeps its issue time.
        let events = try state.transfer(1, to: .queue(2, service: nil), nowMs: 6_000)
        #expect(events.first?.ticket?.transferredAtMs == 6_000)
        #expect(state.tickets[1]?.queueID == 2 && state.tickets[1]?.state == .waiting)
        #expect(state.head(of: 2)?.id == 1)
        // Ticket 2, to the colleague who works at counter 2, now for service B.
        _ = try state.transfer(2, to: .colleague(7, service: 2), nowMs: 7_000)
        #expect(state.tickets[2]?.queueID == 2 && state.tickets[2]?.serviceID == 2)
        #expect(state.line(of: 2).prefix(2).map(\.id) == [1, 2])
        // Refusals: a counter that does not serve the service, a closed counter, a colleague at no counter.
        #expect(throws: QueueRuleViolation.queueDoesNotServe(counter: "1", service: "Service B")) {
            try state.transfer(3, to: .queue(1, service: 2), nowMs: 8_000)
        }
        #expect(throws: QueueRuleViolation.queueClosed(counter: "3")) { try state.transfer(3, to: .queue(3, service: 2), nowMs: 8_000) }
        #expect(throws: QueueRuleViolation.colleagueAtNoCounter(8, service: "Service A")) {
            try state.transfer(3, to: .colleague(8, service: nil), nowMs: 8_000)
        }
        // Closing counter 2 sends what was transferred to it where the routing mode puts service A's tickets.
        _ = try state.close(2, nowMs: 9_000)
        #expect(state.tickets[1]?.state == .waiting)
        #expect(state.line(of: 1).map(\.id).contains(1))
        #expect(state.tickets[2]?.state == .held)
    }

    @Test("lines follow a change of weight, policy or routing mode")
    func linesFollowSettings() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
            queues: [Fixture.queue(1, counter: "1", services: [1, 2])],
            tickets: []
        )
        for id in 1...4 { _ = try state.issue(Fixture.ticket(TicketID(id), service: id.isMultiple(of: 2) ? 2 : 1, issuedAtMs: Int64(id)), nowMs: Int64(id)) }
        #expect(state.line(of: 1).map(\.id) == [1, 2, 3, 4])
        state.services[2]?.priorityWeight = 5
        #expect(state.line(of: 1).map(\.id) == [2, 4, 1, 3])
        #expect(state.head(of: 1)?.id == 2)
        state.policy.classMultipliers[.regular] = 0
        #expect(state.line(of: 1).map(\.id) == [1, 2, 3, 4])
        state = BranchState(
            branch: Fixture.branch(.pooled),
            services: Array(state.services.values),
            queues: Array(state.queues.values),
            tickets: state.tickets.values.map {
                var t = $0
                t.queueID = nil
                return t
            }
        )
        // Pooled: each service has its own line; ticket 3 is the second of service A's.
        #expect(state.position(of: state.tickets[3]!) == 2)
        state.branch.routingMode = .dedicated
        // In dedicated mode a ticket on no counter stands in no counter's line.
        #expect(state.line(of: 1).isEmpty)
    }

    @Test("closing reallocates waiting tickets in order; what no queue can take is held and placed when a queue opens")
    func closeAndReopen() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
            queues: [
                Fixture.queue(1, counter: "1", services: [1, 2]), Fixture.queue(2, counter: "2", services: [1]),
                Fixture.queue(3, counter: "3", services: [2], state: .closed),
            ],
            tickets: []
        )
        _ = try state.pause(2)
        for id in 1...4 { _ = try state.issue(Fixture.ticket(TicketID(id), service: id.isMultiple(of: 2) ? 2 : 1, issuedAtMs: Int64(id)), nowMs: Int64(id)) }
        _ = try state.open(2, nowMs: 10)
        let before = state.line(of: 1).map(\.id)
        #expect(before == [1, 2, 3, 4])
        let events = try state.close(1, nowMs: 20)
        #expect(events.first?.type == "queue.closed")
        // Service A tickets move to counter 2 in their order; service B has no open counter: held.
        #expect(state.line(of: 2).map(\.id) == [1, 3])
        #expect(state.tickets.values.filter { $0.state == .held }.map(\.id).sorted() == [2, 4])
        #expect(state.tickets[2]?.heldReason?.contains("keep your place") == true)
        #expect(state.line(of: 1).isEmpty)
        let reopened = try state.open(3, nowMs: 30)
        #expect(reopened.map(\.type) == ["queue.opened", "ticket.reassigned", "ticket.reassigned"])
        #expect(state.line(of: 3).map(\.id) == [2, 4])
    }

    @Test("pooled mode: tickets wait on their service's line and go to whichever counter calls")
    func pooled() throws {
        var state = BranchState(
            branch: Fixture.branch(.pooled),
            services: [Fixture.service(1, "A"), Fixture.service(2, "B")],
            queues: [Fixture.queue(1, counter: "1", services: [1, 2]), Fixture.queue(2, counter: "2", services: [1])],
            tickets: []
        )
        _ = try state.issue(Fixture.ticket(1, service: 2, issuedAtMs: 0), nowMs: 0)
        _ = try state.issue(Fixture.ticket(2, service: 1, issuedAtMs: 1), nowMs: 1)
        #expect(state.tickets[1]?.queueID == nil)
        let called = try state.callNext(at: 2, nowMs: 5)
        #expect(called.first?.ticket?.id == 2)
        #expect(called.first?.ticket?.queueID == 2)
        // Counter 2 serves only A, and no A ticket waits: nothing happens, its current customer stays.
        #expect(try state.callNext(at: 2, nowMs: 6).isEmpty)
        #expect(state.current(at: 2)?.id == 2)
        let atOne = try state.callNext(at: 1, nowMs: 7)
        #expect(atOne.compactMap(\.ticket).map(\.id) == [1])
    }

    @Test("wait estimates: smoothing, people ahead, Erlang C")
    func estimates() throws {
        #expect(WaitEstimate.smoothed(previous: nil, sample: 100, weight: 0.3) == 100)
        #expect(abs(WaitEstimate.smoothed(previous: 100, sample: 200, weight: 0.3) - 130) < 1e-9)
        #expect(WaitEstimate.seconds(ahead: 3, averageServiceSeconds: 120, counters: 1) == 360)
        #expect(WaitEstimate.seconds(ahead: 3, averageServiceSeconds: 120, counters: 2) == 180)
        // M/M/2 with one erlang offered: P(wait) = 1/3, expected wait = 1/3 of a service time.
        let result = try #require(WaitEstimate.erlangC(arrivalsPerSecond: 1.0 / 60, serviceSeconds: 60, servers: 2))
        #expect(abs(result.probabilityOfWaiting - 1.0 / 3) < 1e-9)
        #expect(abs(result.expectedWaitSeconds - 20) < 1e-9)
        // M/M/1: P(wait) equals the load.
        #expect(abs(try #require(WaitEstimate.erlangC(arrivalsPerSecond: 0.5 / 60, serviceSeconds: 60, servers: 1)).probabilityOfWaiting - 0.5) < 1e-9)
        #expect(WaitEstimate.erlangC(arrivalsPerSecond: 2.0 / 60, serviceSeconds: 60, servers: 2) == nil)
        // Many counters stay finite.
        #expect(try #require(WaitEstimate.erlangC(arrivalsPerSecond: 150.0 / 60, serviceSeconds: 60, servers: 200)).probabilityOfWaiting < 0.01)
    }

    @Test("numbers and local days")
    func numbersAndDays() {
        #expect(TicketNumber(prefix: "A", sequence: 1).description == "A001")
        #expect(TicketNumber(prefix: "B", sequence: 42).description == "B042")
        #expect(TicketNumber(prefix: "C", sequence: 1234).description == "C1234")
        #expect(TicketNumber(prefix: "A", sequence: 1).spoken == "A 0 0 1")
        let lateEvening: Int64 = 1_795_303_800_000  // 2026-11-21T23:30:00Z
        #expect(LocalDay.of(lateEvening, timeZone: "UTC") == "2026-11-21")
        #expect(LocalDay.of(lateEvening, timeZone: "Europe/Rome") == "2026-11-22")
        #expect(LocalDay.of(lateEvening, timeZone: "America/New_York") == "2026-11-21")
        #expect(LocalDay.of(lateEvening, timeZone: "Not/AZone") == "2026-11-21")
    }
}

@Suite("Daily roll-over")
struct RolloverTests {
    @Test("after the local midnight, tickets of the earlier day that still wait expire; today's stay")
    func expiry() throws {
        var state = BranchState(
            branch: Fixture.branch(.dedicated),
            services: [Fixture.service(1, "A")],
            queues: [Fixture.queue(1, counter: "1", services: [1])],
            tickets: []
        )
        let eveningInRome: Int64 = 1_795_300_000_000  // 2026-11-21T22:26:40Z, 23:26 in Rome
        let afterMidnight: Int64 = 1_795_304_000_000  // 2026-11-21T23:33:20Z, 00:33 on the 22nd in Rome
        _ = try state.issue(Fixture.ticket(1, service: 1, issuedAtMs: eveningInRome), nowMs: eveningInRome)
        #expect(state.expireWaiting(nowMs: eveningInRome + 60_000).isEmpty)
        _ = try state.issue(Fixture.ticket(2, service: 1, issuedAtMs: afterMidnight), nowMs: afterMidnight)
        let expired = state.expireWaiting(nowMs: afterMidnight + 60_000)
        #expect(expired.map(\.type) == ["ticket.expired"])
        #expect(expired.first?.ticket?.id == 1)
        #expect(state.tickets.keys.sorted() == [2])
        #expect(state.expireWaiting(nowMs: afterMidnight + 120_000).isEmpty)
    }
}

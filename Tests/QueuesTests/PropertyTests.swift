import Testing

@testable import Queues

/// Random sequences of issue / call / recall / start / finish / no-show / transfer / cancel / open / pause / close
/// on a branch, checking the engine's invariants after every step.
@Suite("Queue domain properties")
struct PropertyTests {
    enum Step: CaseIterable { case issue, callNext, recall, start, finish, noShow, transfer, cancel, open, pause, close }

    /// A branch with three services and four counters, and the bookkeeping a store would do (numbers per service).
    struct Simulation {
        var state: BranchState
        var random: SeededRandom
        var nowMs: Int64 = 0
        var nextID: TicketID = 1
        var sequences: [ServiceID: Int] = [:]
        var issuedNumbers: [TicketNumber] = []
        var finished: [TicketID: TicketState] = [:]
        var calledCount: [TicketID: Int] = [:]

        init(mode: RoutingMode, seed: UInt64) {
            random = SeededRandom(seed: seed)
            let services = [Fixture.service(1, "A", weight: 0), Fixture.service(2, "B", weight: 3), Fixture.service(3, "C", weight: 8)]
            var queues = [
                Fixture.queue(1, counter: "1", services: [1, 2]),
                Fixture.queue(2, counter: "2", services: [1]),
                Fixture.queue(3, counter: "3", services: [2, 3]),
                Fixture.queue(4, counter: "4", services: [3], state: .closed),
            ]
            // Staff member 7 works at counters 1 and 3: the target of transfers to a colleague.
            queues[0].operatorIDs = [7]
            queues[2].operatorIDs = [7]
            var policy = QueuePolicy.standard
            policy.noShowReturnsToQueue = Bool.random(using: &random)
            state = BranchState(branch: Fixture.branch(mode), services: services, queues: queues, tickets: [], policy: policy)
        }

        mutating func ticket(in states: Set<TicketState>) -> Ticket? {
            state.tickets.values.filter { states.contains($0.state) }.sorted { $0.id < $1.id }.randomElement(using: &random)
        }

        mutating func run(_ step: Step) {
            nowMs += Int64.random(in: 0...90_000, using: &random)
            let queueID = QueueID.random(in: 1...4, using: &random)
            do {
                let events: [QueueEvent]
                switch step {
                case .issue:
                    let service = ServiceID.random(in: 1...3, using: &random)
                    let loadsBefore = state.waitingPerQueue
                    let sequence = (sequences[service] ?? 0) + 1
                    let ticket = Ticket(
                        id: nextID,
                        branchID: 1,
                        token: "t\(nextID)",
                        number: TicketNumber(prefix: state.services[service]!.prefix, sequence: sequence),
                        serviceID: service,
                        queueID: nil,
                        customerClass: CustomerClass.allCases.randomElement(using: &random)!,
                        channel: .kiosk,
                        state: .waiting,
                        issuedAtMs: nowMs
                    )
                    events = try state.issue(ticket, nowMs: nowMs)
                    nextID += 1
                    sequences[service] = sequence
                    issuedNumbers.append(ticket.number)
                    if state.branch.routingMode == .dedicated, let chosen = events.first?.ticket?.queueID {
                        // The chosen queue had the fewest waiting tickets among open queues serving the service.
                        let candidates = state.queues.values.filter { $0.state == .open && $0.serviceIDs.contains(service) }
                        let least = candidates.map { loadsBefore[$0.id] ?? 0 }.min()
                        #expect(loadsBefore[chosen] ?? 0 == least)
                    }
                case .callNext:
                    events = try state.callNext(at: queueID, nowMs: nowMs)
                case .recall:
                    guard let ticket = ticket(in: [.called]) else { return }
                    events = try state.recall(ticket.id, nowMs: nowMs)
                case .start:
                    guard let ticket = ticket(in: [.called]) else { return }
                    events = try state.start(ticket.id, nowMs: nowMs)
                case .finish:
                    guard let ticket = ticket(in: [.called, .serving]) else { return }
                    events = try state.finish(ticket.id, nowMs: nowMs)
                case .noShow:
                    guard let ticket = ticket(in: [.called]) else { return }
                    events = try state.noShow(ticket.id, nowMs: nowMs)
                case .transfer:
                    guard let ticket = ticket(in: [.waiting, .called, .serving, .held]) else { return }
                    let service = ServiceID.random(in: 1...3, using: &random)
                    let target: TransferTarget =
                        switch Int.random(in: 0..<3, using: &random) {
                        case 0: .service(service)
                        case 1: .queue(queueID, service: Bool.random(using: &random) ? service : nil)
                        default: .colleague(7, service: Bool.random(using: &random) ? service : nil)
                        }
                    events = try state.transfer(ticket.id, to: target, nowMs: nowMs)
                    #expect(events.first?.ticket?.transferredAtMs == nowMs)
                    if case .queue(let queueID, _) = target { #expect(state.tickets[ticket.id]?.queueID == queueID) }
                case .cancel:
                    guard let ticket = ticket(in: [.waiting, .held, .called]) else { return }
                    events = try state.cancel(ticket.id, nowMs: nowMs)
                case .open:
                    events = try state.open(queueID, nowMs: nowMs)
                case .pause:
                    events = try state.pause(queueID)
                case .close:
                    let lineBefore = state.line(of: queueID).map(\.id)
                    events = try state.close(queueID, nowMs: nowMs)
                    if state.branch.routingMode == .dedicated {
                        // Reallocation keeps relative order: tickets that landed on the same queue keep their order.
                        for target in state.queues.keys {
                            let landed = state.line(of: target).map(\.id).filter(lineBefore.contains)
                            #expect(landed == lineBefore.filter(landed.contains))
                        }
                    }
                }
                for event in events {
                    guard let ticket = event.ticket else { continue }
                    if case .ticketCalled = event { calledCount[ticket.id, default: 0] += 1 }
                    if !ticket.state.isActive { finished[ticket.id] = ticket.state }
                }
            } catch {
                // Refusals are part of the rules (closed counter, no open queue…); the state must be unchanged in meaning.
            }
        }

        func checkInvariants() {
            // Every ticket ever issued is active or finished, never lost.
            let active = Set(state.tickets.keys)
            #expect(Set(active).union(finished.keys) == Set(1..<nextID))
            // Numbers are unique per branch and day.
            #expect(Set(issuedNumbers).count == issuedNumbers.count)
            // Each ticket is in at most one line, closed queues hold no waiting tickets, positions are exactly 1…n.
            var seen: Set<TicketID> = []
            for queue in state.queues.values {
                let line = state.line(of: queue.id)
                if state.branch.routingMode == .dedicated {
                    #expect(seen.isDisjoint(with: line.map(\.id)))
                    seen.formUnion(line.map(\.id))
                    if queue.state == .closed { #expect(line.isEmpty) }
                }
            }
            let waiting = state.tickets.values.filter { $0.state == .waiting }
            if state.branch.routingMode == .dedicated {
                #expect(waiting.allSatisfy { $0.queueID != nil && state.queues[$0.queueID!]?.state != .closed })
                #expect(seen == Set(waiting.map(\.id)))
            } else {
                // Pooled tickets wait on no counter, unless they were transferred to one that has not closed.
                #expect(waiting.allSatisfy { $0.queueID.map { state.queues[$0]?.state != .closed } ?? true })
            }
            // The indexes the state keeps agree with working everything out from the tickets themselves.
            for queue in state.queues.values {
                let members = waiting.filter { ticket in
                    switch state.branch.routingMode {
                    case .dedicated: ticket.queueID == queue.id
                    case .pooled: ticket.queueID == queue.id || (ticket.queueID == nil && queue.serviceIDs.contains(ticket.serviceID))
                    }
                }
                let expected = CallOrder.sorted(members, services: state.services, policy: state.policy).map(\.id)
                #expect(state.line(of: queue.id).map(\.id) == expected)
                #expect(state.head(of: queue.id)?.id == expected.first)
                let attended = state.tickets.values.filter { $0.queueID == queue.id && ($0.state == .called || $0.state == .serving) }
                #expect(state.current(at: queue.id)?.id == attended.first?.id)
            }
            for service in state.services.keys {
                #expect(
                    state.waitingCount(of: service)
                        == state.tickets.values.filter { $0.serviceID == service && ($0.state == .waiting || $0.state == .held) }.count
                )
            }
            // Positions are exactly 1…n in each line (a counter's, or in pooled mode a service's), in call order.
            let lines = Dictionary(grouping: waiting) { ticket in
                ticket.queueID.map { "queue \($0)" } ?? "service \(ticket.serviceID)"
            }
            for members in lines.values {
                let line = CallOrder.sorted(members, services: state.services, policy: state.policy)
                #expect(line.map { state.position(of: $0) } == Array(1...line.count).map { Optional($0) })
            }
            // At most one ticket called or served per counter; held tickets wait on no counter.
            for queue in state.queues.keys {
                #expect(state.tickets.values.filter { $0.queueID == queue && ($0.state == .called || $0.state == .serving) }.count <= 1)
            }
            #expect(state.tickets.values.filter { $0.state == .held }.allSatisfy { $0.queueID == nil && $0.heldReason != nil })
        }
    }

    @Test("invariants hold over random sequences", arguments: RoutingMode.allCases)
    func randomSequences(mode: RoutingMode) {
        for seed in UInt64(1)...60 {
            var simulation = Simulation(mode: mode, seed: seed)
            let weighted: [Step] = [
                .issue, .issue, .issue, .callNext, .callNext, .recall, .start, .finish, .finish, .noShow, .transfer, .cancel, .open, .pause, .close,
            ]
            for _ in 0..<150 {
                simulation.run(weighted.randomElement(using: &simulation.random)!)
                simulation.checkInvariants()
            }
        }
    }
}

import Benchmark
import Fleet
import Queues
import Sessions

/// The hot domain functions, timed by ordo-one/benchmark: `swift package benchmark` (see BENCHMARKS.md).
/// Each benchmark builds its input once, outside the measured loop; a benchmark that changes a state works on a
/// copy, as the store does with its cached branch states.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )
    queueBenchmarks()
    sessionBenchmarks()
    fleetBenchmarks()
}

let nowMs: Int64 = 1_790_000_000_000

/// A branch with `services` services and `queues` counters, each counter serving three services, and `waiting`
/// tickets spread over the services, issued a second apart.
func branchState(_ mode: RoutingMode, services serviceCount: Int, queues queueCount: Int, waiting: Int) -> BranchState {
    let branch = Branch(id: 1, organizationID: 1, name: "Centre", timeZone: "Europe/Rome", language: "en", routingMode: mode, isOpen: true)
    let services = (1...serviceCount).map {
        Service(id: Int64($0), branchID: 1, name: "Service \($0)", prefix: "S\($0)", priorityWeight: $0 % 4, targetWaitSeconds: 600, defaultServiceSeconds: 300)
    }
    let queues = (1...queueCount).map { number in
        Queue(
            id: Int64(number),
            branchID: 1,
            name: "Desk \(number)",
            counter: "\(number)",
            serviceIDs: Set((0..<3).map { Int64((number + $0) % serviceCount + 1) }),
            state: .open
        )
    }
    var state = BranchState(branch: branch, services: services, queues: queues, tickets: [])
    for id in 1...max(waiting, 1) where waiting > 0 {
        let service = Int64(id % serviceCount + 1)
        let ticket = Ticket(
            id: Int64(id),
            branchID: 1,
            token: "token-\(id)",
            number: TicketNumber(prefix: "S\(service)", sequence: id),
            serviceID: service,
            queueID: nil,
            customerClass: id % 10 == 0 ? .priority : .regular,
            channel: .kiosk,
            state: .waiting,
            issuedAtMs: nowMs - Int64(waiting - id) * 1_000
        )
        _ = try! state.issue(ticket, nowMs: ticket.issuedAtMs)
    }
    return state
}

func newTicket(_ id: Int64, service: Int64) -> Ticket {
    Ticket(
        id: id,
        branchID: 1,
        token: "token-\(id)",
        number: TicketNumber(prefix: "N", sequence: Int(id)),
        serviceID: service,
        queueID: nil,
        customerClass: .regular,
        channel: .online,
        state: .waiting,
        issuedAtMs: nowMs
    )
}

func queueBenchmarks() {
    let crowded = branchState(.dedicated, services: 20, queues: 200, waiting: 10_000)
    Benchmark("Queues: route a ticket among 200 queues (10,000 waiting)") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(try crowded.route(Int64(index % 20 + 1)))
        }
    }
    Benchmark("Queues: issue a ticket into a branch with 10,000 waiting over 200 queues") { benchmark in
        for index in benchmark.scaledIterations {
            var state = crowded
            blackHole(try state.issue(newTicket(1_000_000 + Int64(index), service: Int64(index % 20 + 1)), nowMs: nowMs))
        }
    }

    let longLine = branchState(.pooled, services: 4, queues: 4, waiting: 10_000)
    Benchmark("Queues: position of the last of 10,000 in one line") { benchmark in
        let last = longLine.tickets[10_000]!
        for _ in benchmark.scaledIterations {
            blackHole(longLine.position(of: last))
        }
    }
    Benchmark("Queues: issue into and call next from a line of 10,000") { benchmark in
        for index in benchmark.scaledIterations {
            var state = longLine
            blackHole(try state.issue(newTicket(1_000_000 + Int64(index), service: Int64(index % 4 + 1)), nowMs: nowMs))
            blackHole(try state.callNext(at: Int64(index % 4 + 1), nowMs: nowMs))
        }
    }

    let closing = branchState(.dedicated, services: 1, queues: 2, waiting: 2_000)
    Benchmark("Queues: close a queue with 1,000 waiting (reallocate them one by one)", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            var state = closing
            blackHole(try state.close(1, nowMs: nowMs))
        }
    }
}

func sessionBenchmarks() {
    // A keen athlete: every day of a year, three of the sports.
    let today = LocalDate(dayNumber: 20_400)
    let first = today.adding(days: -364)
    let sports: [Sport] = [.run, .ride, .swim]
    let days = (0..<365).flatMap { offset in
        sports.enumerated().map { index, sport in
            DayTotals(
                day: first.adding(days: offset),
                sport: sport,
                count: 1 + offset % 2,
                durationS: 1_800 + 60 * index,
                distanceM: 8_000 + Double(offset),
                caloriesKcal: 500,
                elevationGainM: 40,
                heartRateWeighted: 145 * 1_800,
                heartRateDurationS: 1_800,
                distanceDurationS: 1_800,
                maxDurationS: 1_800,
                maxDistanceM: 8_000
            )
        }
    }
    for bucket in [Bucket.day, .week, .month] {
        Benchmark("Sessions: statistics of a year of daily sessions in three sports, by \(bucket.rawValue)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Statistics.compute(days: days, first: first, last: today, bucket: bucket, today: today))
            }
        }
    }
}

func fleetBenchmarks() {
    let map = FleetMap.standard
    var random = RandomFleet.Generator(seed: 7)
    let drones = RandomFleet.drones(10_000, on: map, using: &random)
    let startMs: Int64 = 1_790_000_000_000
    let pending = RandomFleet.deliveries(1_000, on: map, startMs: startMs, using: &random)
    Benchmark("Fleet: optimal dispatch of 1,000 pending deliveries to 10,000 drones", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Dispatch.optimal(pending: pending, drones: drones, map: map, rules: .standard))
        }
    }
    Benchmark("Fleet: greedy dispatch of the same (for comparison)", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Dispatch.greedy(pending: pending, drones: drones, map: map, rules: .standard))
        }
    }

    // A busy moment: the 1,000 deliveries just assigned, so drones fly, and the rest idle.
    var world = FleetWorld(drones: drones, deliveries: Dictionary(uniqueKeysWithValues: pending.map { ($0.id, $0) }))
    for assignment in Dispatch.optimal(pending: pending, drones: drones, map: map, rules: .standard) {
        guard let index = world.drones.firstIndex(where: { $0.id == assignment.droneID }), var delivery = world.deliveries[assignment.deliveryID] else {
            continue
        }
        try? world.drones[index].take(&delivery, nowMs: startMs)
        world.deliveries[delivery.id] = delivery
    }
    let busy = world
    Benchmark("Fleet: one simulation tick of 10,000 drones (1,000 flying)") { benchmark in
        for _ in benchmark.scaledIterations {
            var world = busy
            blackHole(Simulation.tick(&world, seconds: 1, nowMs: startMs + 1000, map: map, rules: .standard))
        }
    }
}

@testable import Queues

/// A seeded random generator, so a failing property run can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    mutating func next() -> UInt64 {
        // SplitMix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixture {
    static func branch(_ mode: RoutingMode, open: Bool = true) -> Branch {
        Branch(id: 1, organizationID: 1, name: "Centre", timeZone: "Europe/Rome", language: "en", routingMode: mode, isOpen: open)
    }

    static func service(_ id: ServiceID, _ prefix: String, weight: Int = 0) -> Service {
        Service(id: id, branchID: 1, name: "Service \(prefix)", prefix: prefix, priorityWeight: weight, targetWaitSeconds: 600, defaultServiceSeconds: 300)
    }

    static func queue(_ id: QueueID, counter: String, services: Set<ServiceID>, state: QueueState = .open) -> Queue {
        Queue(id: id, branchID: 1, name: "Desk \(counter)", counter: counter, serviceIDs: services, state: state)
    }

    static func ticket(_ id: TicketID, service: ServiceID, issuedAtMs: Int64, class customerClass: CustomerClass = .regular, sequence: Int? = nil) -> Ticket {
        Ticket(
            id: id,
            branchID: 1,
            token: "token-\(id)",
            number: TicketNumber(prefix: "A", sequence: sequence ?? Int(id)),
            serviceID: service,
            queueID: nil,
            customerClass: customerClass,
            channel: .kiosk,
            state: .waiting,
            issuedAtMs: issuedAtMs
        )
    }
}
